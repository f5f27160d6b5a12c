import { connect } from 'node:net';
import { join } from 'node:path';
import { freePorts } from './ports.ts';
import { startConfiguredDaemon } from './processes.ts';
import type { RunningProcess } from './processes.ts';
import { makeTempDir } from './temp.ts';

export interface HaproxyOptions {
  /** Where HAProxy forwards to (our listener). */
  readonly backend: { readonly host: string; readonly port: number };
  /**
   * Options on the backend `server` line, e.g. "send-proxy", "send-proxy-v2",
   * "send-proxy-v2 proxy-v2-options crc32c,unique-id,authority", "send-proxy-v2-ssl",
   * "send-proxy-v2-ssl-cn", "send-proxy-v2 check check-send-proxy inter 200ms".
   */
  readonly serverOptions?: string;
  /** Appended to the frontend `bind 127.0.0.1:PORT` line, e.g. "ssl crt /tmp/x/combined.pem". */
  readonly bindOptions?: string;
  /** Extra frontend lines, e.g. 'unique-id-format "%{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid"'. */
  readonly frontendLines?: readonly string[];
  readonly backendLines?: readonly string[];
  /**
   * `mode tcp` (default) or `mode http` (HAProxy parses the requests: `option forwardfor`,
   * `http-request set-header ...` in frontendLines/backendLines; the log format is then httplog).
   */
  readonly mode?: 'tcp' | 'http';
}

export interface RunningHaproxy {
  readonly host: string;
  /** The frontend port clients connect to. */
  readonly port: number;
  readonly config: string;
  readonly process: RunningProcess;
  output(): string;
  /** `show stat` over the stats socket: one record per proxy/server line, keyed by the CSV header. */
  showStat(): Promise<Record<string, string>[]>;
  /** The `show stat` record of the backend server (`be/portico`); check_status without the "* " of a check in progress. */
  serverStat(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy (2.6) in the foreground (`-db`) with a generated tcp-mode (or, with `mode: 'http'`,
 * http-mode) config: one frontend on 127.0.0.1 forwarding to one backend server. Readiness is checked
 * on a separate frontend that rejects every connection, so that waiting for HAProxy never sends a
 * connection to the backend.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<RunningHaproxy> {
  const temp = makeTempDir('haproxy');
  const [port, readyPort] = (await freePorts(2)) as [number, number];
  const host = '127.0.0.1';
  const statsSocket = join(temp.path, 'admin.sock');
  const config = [
    'global',
    '  log stderr format raw local0 info',
    `  stats socket ${statsSocket} level admin`,
    '  maxconn 1000',
    '',
    'defaults',
    `  mode ${options.mode ?? 'tcp'}`,
    '  log global',
    `  option ${options.mode === 'http' ? 'httplog' : 'tcplog'}`,
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout check 1s',
    '',
    'frontend ready',
    `  bind ${host}:${readyPort}`,
    '  tcp-request connection reject',
    '',
    'frontend fe',
    `  bind ${host}:${port}${options.bindOptions ? ' ' + options.bindOptions : ''}`,
    ...(options.frontendLines ?? []).map((l) => `  ${l}`),
    '  default_backend be',
    '',
    'backend be',
    ...(options.backendLines ?? []).map((l) => `  ${l}`),
    `  server portico ${options.backend.host}:${options.backend.port}${options.serverOptions ? ' ' + options.serverOptions : ''}`,
    '',
  ].join('\n');
  const configFile = join(temp.path, 'haproxy.cfg');
  const daemon = await startConfiguredDaemon({ name: 'haproxy', command: 'haproxy', args: ['-db', '-f', configFile], config, configFile, temp, ready: { host, port: readyPort } });
  const proc = daemon.process;
  const showStat = async (): Promise<Record<string, string>[]> => {
    const csv = await statsCommand(statsSocket, 'show stat');
    const [header = '', ...rows] = csv.split('\n').filter((l) => l.trim() !== '');
    const names = header.replace(/^# /, '').split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [names[i] ?? String(i), v])));
  };
  return {
    host,
    port,
    config,
    process: proc,
    output: () => proc.output(),
    showStat,
    async serverStat() {
      const stats = await showStat();
      const server = stats.find((s) => s.pxname === 'be' && s.svname === 'portico');
      if (!server) throw new Error(`no be/portico in show stat: ${JSON.stringify(stats)}`);
      return { ...server, check_status: (server.check_status ?? '').replace(/^\* /, '') };
    },
    stop: () => daemon.stop(),
  };
}

/** Sends one command to HAProxy's stats socket and answers the whole reply. */
function statsCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => socket.write(command + '\n'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`stats socket: no reply to ${command}`)));
  });
}
