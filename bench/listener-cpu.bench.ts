// CPU per accepted connection: the Portico listener (PROXY v1/v2 header from a trusted peer, child
// logger, open/close log lines) against a bare net.Server doing nothing, each in a child process,
// measured in the same run. Goal: at most 1.2x the bare server.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { connect } from 'node:net';
import { once } from 'node:events';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4000);
const CONCURRENCY = 32;
const node = process.execPath;
const here = new URL('.', import.meta.url).pathname;

function lines(child: ChildProcessByStdio<Writable, Readable, null>): () => Promise<string> {
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  const queued: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else queued.push(line);
    }
  });
  return () => (queued.length ? Promise.resolve(queued.shift()!) : new Promise((r) => waiting.push(r)));
}

const V1 = Buffer.from('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
const V2 = Buffer.concat([
  Buffer.from('0d0a0d0a000d0a515549540a2111000cc0000207c000021909c40019', 'hex'),
]);

async function oneConnection(port: number, header: Buffer | undefined): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  if (header) socket.write(header);
  await once(socket, 'data');
  socket.end();
  await once(socket, 'close');
}

async function measure(kind: string, header: Buffer | undefined): Promise<number> {
  const child = spawn(node, [`${here}cpu-server.ts`, kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const next = lines(child);
  const port = Number(await next());
  let remaining = CONNECTIONS / 4;
  const run = async () => {
    while (remaining-- > 0) await oneConnection(port, header);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, run)); // warm-up
  child.stdin.write('cpu\n');
  const before = Number(await next());
  remaining = CONNECTIONS;
  await Promise.all(Array.from({ length: CONCURRENCY }, run));
  child.stdin.write('cpu\n');
  const after = Number(await next());
  child.kill();
  return (after - before) / CONNECTIONS;
}

export async function run(): Promise<string[]> {
  const bare = await measure('bare', undefined);
  const bareWithHeader = await measure('bare', V1);
  const direct = await measure('direct', undefined);
  const v1 = await measure('proxy', V1);
  const v2 = await measure('proxy', V2);
  const bareAgain = await measure('bare', undefined);
  const baseline = (bare + bareAgain) / 2;
  const row = (name: string, us: number) => `| ${name.padEnd(48)} | ${us.toFixed(1).padStart(8)} | ${(us / baseline).toFixed(2).padStart(5)}x |`;
  return [
    `${CONNECTIONS} connections, ${CONCURRENCY} at a time, server CPU (user+system) per connection`,
    `| ${'server'.padEnd(48)} | ${'µs/conn'.padStart(8)} | ${'ratio'.padStart(6)} |`,
    `|${'-'.repeat(50)}|${'-'.repeat(10)}|${'-'.repeat(8)}|`,
    row('bare net.Server (baseline, mean of 2 runs)', baseline),
    row('bare net.Server, client sends a v1 header', bareWithHeader),
    row('Portico listener, direct (no proxy)', direct),
    row('Portico listener, PROXY v1 from trusted peer', v1),
    row('Portico listener, PROXY v2 from trusted peer', v2),
    `bare runs: ${bare.toFixed(1)} and ${bareAgain.toFixed(1)} µs/conn (spread shows the noise)`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
