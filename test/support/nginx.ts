import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { startConfiguredDaemon } from './processes.ts';
import type { ConfiguredDaemon, RunningProcess } from './processes.ts';
import { makeTempDir } from './temp.ts';

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface NginxStreamOptions {
  /** Where NGINX forwards to (our listener). */
  readonly backend: { readonly host: string; readonly port: number };
  /** `proxy_protocol on;` towards the backend (NGINX sends v1 only). Default true. */
  readonly proxyProtocol?: boolean;
  /** Terminate TLS in NGINX: `listen PORT ssl;` with this certificate and key. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Extra lines in the proxying `server {}` block. */
  readonly serverLines?: readonly string[];
}

export interface RunningNginx {
  readonly host: string;
  readonly port: number;
  readonly config: string;
  readonly process: RunningProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts NGINX (1.22, stream module loaded dynamically) in the foreground with a generated config in
 * a temp prefix: one stream server on 127.0.0.1 proxying to the backend, plus a second stream server
 * that only answers "ready" (what the readiness wait connects to, so it never reaches the backend).
 */
/** Runs nginx in the foreground on `config` (written into `temp`), resolved once `ready` answers. */
export function runNginx(config: string, temp: { path: string; remove(): void }, ready: { host: string; port: number }): Promise<ConfiguredDaemon> {
  const configFile = join(temp.path, 'nginx.conf');
  const args = ['-e', 'stderr', '-p', temp.path, '-c', configFile, '-g', `daemon off; pid ${join(temp.path, 'nginx.pid')};`];
  return startConfiguredDaemon({ name: 'nginx', command: 'nginx', args, config, configFile, temp, ready });
}

export async function startNginxStream(options: NginxStreamOptions): Promise<RunningNginx> {
  const temp = makeTempDir('nginx');
  const [port, readyPort] = (await freePorts(2)) as [number, number];
  const host = '127.0.0.1';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const config = [
    `load_module ${NGINX_STREAM_MODULE};`,
    ...(isRoot ? ['user root;'] : []),
    'worker_processes 1;',
    'error_log stderr info;',
    'events { worker_connections 256; }',
    'stream {',
    '  server {',
    `    listen ${host}:${port}${options.tls ? ' ssl' : ''};`,
    ...(options.tls
      ? [`    ssl_certificate ${options.tls.certFile};`, `    ssl_certificate_key ${options.tls.keyFile};`]
      : []),
    `    proxy_pass ${options.backend.host}:${options.backend.port};`,
    `    proxy_protocol ${options.proxyProtocol === false ? 'off' : 'on'};`,
    '    proxy_connect_timeout 2s;',
    ...(options.serverLines ?? []).map((l) => `    ${l}`),
    '  }',
    '  server {',
    `    listen ${host}:${readyPort};`,
    '    return "ready\\n";',
    '  }',
    '}',
    '',
  ].join('\n');
  const daemon = await runNginx(config, temp, { host, port: readyPort });
  const proc = daemon.process;
  return {
    host,
    port,
    config,
    process: proc,
    output: () => proc.output(),
    // SIGTERM is NGINX's fast shutdown; the master takes its worker with it.
    stop: () => daemon.stop(),
  };
}
