import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { runNginx } from './nginx.ts';
import type { NginxStreamOptions, RunningNginx } from './nginx.ts';
import { makeTempDir } from './temp.ts';

export interface NginxHttpOptions {
  /** Where NGINX proxies to (our http listener): `proxy_pass http://host:port;`. */
  readonly backend: { readonly host: string; readonly port: number };
  /** Also a `listen PORT ssl;` server (TLS terminated in NGINX) with this certificate and key. */
  readonly tls?: NginxStreamOptions['tls'];
  /**
   * The lines of the proxying `location / {}` block besides `proxy_pass`. Default: what an operator
   * writes in front of an X-Forwarded-For listener (`DEFAULT_FORWARDING_LINES`).
   */
  readonly locationLines?: readonly string[];
}

/** The usual reverse-proxy headers: the client appended to X-Forwarded-For, the scheme of the client's leg. */
export const DEFAULT_FORWARDING_LINES: readonly string[] = [
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
];

/** `port` is the plain-HTTP server's. */
export interface RunningNginxHttp extends RunningNginx {
  /** The TLS server's port (only with `tls`). */
  readonly tlsPort: number | undefined;
}

/**
 * Starts NGINX (1.22, http module, built in) in the foreground with a generated config in a temp
 * prefix: a plain server (and, with `tls`, a TLS-terminating one) on 127.0.0.1 reverse-proxying every
 * path to the backend over HTTP/1.1, plus a third server that only answers "ready" (what the readiness
 * wait connects to, so it never reaches the backend). Temp paths and logs stay inside the prefix.
 */
export async function startNginxHttp(options: NginxHttpOptions): Promise<RunningNginxHttp> {
  const temp = makeTempDir('nginx-http');
  const [port, tlsPort, readyPort] = (await freePorts(3)) as [number, number, number];
  const host = '127.0.0.1';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(temp.path, dir));
  const accessLog = join(temp.path, 'logs', 'access.log');
  const location = [
    '    location / {',
    `      proxy_pass http://${options.backend.host}:${options.backend.port};`,
    '      proxy_http_version 1.1;',
    '      proxy_connect_timeout 2s;',
    ...(options.locationLines ?? DEFAULT_FORWARDING_LINES).map((l) => `      ${l}`),
    '    }',
  ];
  const config = [
    ...(isRoot ? ['user root;'] : []),
    'worker_processes 1;',
    'error_log stderr info;',
    'events { worker_connections 256; }',
    'http {',
    `  client_body_temp_path ${join(temp.path, 'body')};`,
    `  proxy_temp_path ${join(temp.path, 'proxy')};`,
    `  fastcgi_temp_path ${join(temp.path, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(temp.path, 'uwsgi')};`,
    `  scgi_temp_path ${join(temp.path, 'scgi')};`,
    // One line per request (what NGINX saw), appended to output() for failure messages.
    '  log_format probe \'$remote_addr "$request" $status xff="$http_x_forwarded_for" scheme=$scheme\';',
    `  access_log ${accessLog} probe;`,
    '  server {',
    `    listen ${host}:${port};`,
    ...location,
    '  }',
    ...(options.tls
      ? [
          '  server {',
          `    listen ${host}:${tlsPort} ssl;`,
          `    ssl_certificate ${options.tls.certFile};`,
          `    ssl_certificate_key ${options.tls.keyFile};`,
          ...location,
          '  }',
        ]
      : []),
    '  server {',
    `    listen ${host}:${readyPort};`,
    '    return 200 "ready\\n";',
    '  }',
    '}',
    '',
  ].join('\n');
  const daemon = await runNginx(config, temp, { host, port: readyPort });
  const proc = daemon.process;
  return {
    host,
    port,
    tlsPort: options.tls ? tlsPort : undefined,
    config,
    process: proc,
    output: () => `${proc.output()}\naccess log:\n${readAccessLog(accessLog)}`,
    // SIGTERM is NGINX's fast shutdown; the master takes its worker with it.
    stop: () => daemon.stop(),
  };
}

function readAccessLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(none)';
  }
}
