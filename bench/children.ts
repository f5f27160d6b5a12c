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

/** taskset pins a process to a CPU when there are two or more (Linux); otherwise nothing is pinned. */
export const pinning = availableParallelism() >= 2 && spawnSync('taskset', ['--version']).status === 0;
export const CLIENT_CPU = '0';
export const SERVER_CPU = String(availableParallelism() - 1);

/** A child process spoken to in lines: each request line is answered by one line. */
export function lineChild(script: string, args: string[], cpu: string, env: NodeJS.ProcessEnv = {}) {
  const command = [process.execPath, ...V8_FLAGS, `${here}${script}`, ...args];
  const child: ChildProcessWithoutNullStreams = pinning
    ? spawn('taskset', ['-c', cpu, ...command], { env: { ...process.env, ...env } })
    : spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env } });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      waiting.shift()?.(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  return {
    next,
    ask(line: string) {
      const answer = next();
      child.stdin.write(`${line}\n`);
      return answer;
    },
    stop: () => child.kill(),
  };
}

export type ServerKind = 'bare' | 'bare-peer' | 'bare-peer-close' | 'direct' | 'proxy';

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
