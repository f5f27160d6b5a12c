// The child processes the listener benchmarks talk to: bench/cpu-server.ts (a bare net.Server or a
// Portico listener) and bench/cpu-client.ts (the client that opens the connections), each kept on
// its own CPU where there are two.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n, in hex as the client takes it. */
export const V1 = '50524f58592054435034203139322e302e322e37203139322e302e322e32352034303030302032350d0a';
/** The same connection as a PROXY v2 header (no TLVs). */
export const V2 = '0d0a0d0a000d0a515549540a2111000cc0000207c000021909c40019';
/**
 * The young generation of every server has one fixed size: V8 grows it with the traffic a process
 * has seen, which made a busier process cheaper per connection.
 */
export const V8_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
const here = new URL('.', import.meta.url).pathname;
/**
 * Connections every server handles, as fast as they go, before anything is measured. V8 optimizes
 * the per-connection functions of Node and of Portico in tiers, on its worker threads, and it is not
 * done after a few thousand connections: after 6000, about 70 of a Portico server's functions were
 * still to be compiled (26 of a bare server's), after 20 000 a handful (node --trace-opt). Measured
 * before, the compiling counted as the server's CPU, and the code counted was not yet the code a
 * long-running server runs (a bare server ran 55 K instructions a connection after 3000, 42 K after
 * 20 000).
 */
export const JIT_WARM_UP = 20_000;

/** taskset pins a process to a CPU when there are two or more (Linux); otherwise nothing is pinned. */
export const pinning = availableParallelism() >= 2 && spawnSync('taskset', ['--version']).status === 0;
export const CLIENT_CPU = '0';
export const SERVER_CPU = String(availableParallelism() - 1);

/**
 * A child process spoken to in lines: each request line is answered by one line. `prefix` runs the
 * script under another program (valgrind). A child that exits fails whatever is still waiting.
 */
export function lineChild(script: string, args: string[], cpu: string, env: NodeJS.ProcessEnv = {}, prefix: string[] = []) {
  const command = [...prefix, process.execPath, ...V8_FLAGS, `${here}${script}`, ...args];
  const child: ChildProcessWithoutNullStreams = pinning
    ? spawn('taskset', ['-c', cpu, ...command], { env: { ...process.env, ...env } })
    : spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env } });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  let buffer = '';
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      waiting.shift()?.resolve(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${script} exited (${signal ?? code}) before answering`));
      resolve();
    }),
  );
  const next = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
  return {
    /** The process id (taskset execs its command, so this is the script's process, or valgrind's). */
    pid: child.pid!,
    next,
    ask(line: string) {
      const answer = next();
      child.stdin.write(`${line}\n`);
      return answer;
    },
    stop: () => child.kill(),
    /** Resolves once the process has exited (after stop(), or by itself). */
    exited,
  };
}

export type ServerKind = 'bare' | 'bare-peer' | 'bare-peer-close' | 'direct' | 'proxy';

/** A server a per-connection benchmark measures: its kind, log level and the header its client sends (hex; '' for none). */
export interface ServerRow {
  readonly name: string;
  readonly kind: ServerKind;
  readonly logLevel?: string;
  readonly header: string;
}

/** The rows the per-connection benchmarks choose from. */
export const ROW = {
  bare: { name: 'bare net.Server, no header', kind: 'bare', header: '' },
  bareV1: { name: 'bare net.Server, PROXY v1 bytes', kind: 'bare', header: V1 },
  bareV2: { name: 'bare net.Server, PROXY v2 bytes', kind: 'bare', header: V2 },
  floor: { name: "bare + getpeername + a 'close' listener", kind: 'bare-peer-close', header: '' },
  directInfo: { name: 'Portico, direct, log level info', kind: 'direct', header: '' },
  directWarn: { name: 'Portico, direct, log level warn', kind: 'direct', logLevel: 'warn', header: '' },
  proxyV1: { name: 'Portico, PROXY v1 from trusted peer, info', kind: 'proxy', header: V1 },
  proxyV2: { name: 'Portico, PROXY v2 from trusted peer, info', kind: 'proxy', header: V2 },
} as const satisfies Record<string, ServerRow>;

/** The bare row among `rows` that receives `header`: what a row is compared with. */
export function bareRowFor(rows: readonly ServerRow[], header: string): ServerRow {
  return rows.find((row) => row.kind === 'bare' && row.header === header)!;
}

export interface Server {
  readonly port: number;
  /** CPU time (user + system) the server has used, µs. */
  cpu(): Promise<number>;
  /** Starts counting the bytes the server allocates (V8's sampling heap profiler). */
  startCountingAllocations(): Promise<void>;
  /** The bytes allocated since startCountingAllocations, including those already collected. */
  allocatedBytes(): Promise<number>;
  stop(): void;
}

/** Starts bench/cpu-server.ts; `logLevel` goes to the real logger through PORTICO_LOG_LEVEL. */
export async function startServer(kind: ServerKind, logLevel = 'info'): Promise<Server> {
  const child = lineChild('cpu-server.ts', [kind], SERVER_CPU, { PORTICO_LOG_LEVEL: logLevel });
  const port = Number(await child.next());
  return {
    port,
    cpu: () => child.ask('cpu').then(Number),
    startCountingAllocations: () => child.ask('allocations-start').then(() => undefined),
    allocatedBytes: () => child.ask('allocations').then(Number),
    stop: child.stop,
  };
}
