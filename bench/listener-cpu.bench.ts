// CPU per accepted connection: the Portico listener (PROXY v1/v2 header from a trusted peer, child
// logger, open/close log lines through the logger users get) against a bare net.Server that does the
// same protocol work (one-byte greeting, read until the client closes), each in a child process.
// Goal: at most 1.2x the bare server.
//
// Like with like: a PROXY row is compared with the bare server receiving the same header bytes (it
// ignores them, but reading them costs a wake-up and a read), a direct row with the bare server
// receiving nothing. The listener runs at info (the default: two log lines per connection) and at
// warn (no per-connection line), which shows what the logging costs.
//
// Noise: the servers share the machine with the client (and whatever else runs), so every case is
// measured in several rounds, interleaved and in rotating order. A ratio is taken within each round
// (a case against its baseline measured moments apart) and the median of those is reported.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4000);
const ROUNDS = 7;
const CONCURRENCY = 32;
const here = new URL('.', import.meta.url).pathname;

const V1 = Buffer.from('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
const V2 = Buffer.from('0d0a0d0a000d0a515549540a2111000cc0000207c000021909c40019', 'hex');

interface Server {
  readonly port: number;
  cpu(): Promise<number>;
  stop(): void;
}

/** Starts bench/cpu-server.ts; `logLevel` goes to the real logger through PORTICO_LOG_LEVEL. */
async function startServer(kind: 'bare' | 'direct' | 'proxy', logLevel = 'info'): Promise<Server> {
  const child = spawn(process.execPath, [`${here}cpu-server.ts`, kind], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, PORTICO_LOG_LEVEL: logLevel },
  });
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
  const port = Number(await next());
  return {
    port,
    cpu: () => {
      const answer = next();
      child.stdin.write('cpu\n');
      return answer.then(Number);
    },
    stop: () => child.kill(),
  };
}

async function oneConnection(port: number, header: Buffer | undefined): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await once(socket, 'connect');
  if (header) socket.write(header);
  await once(socket, 'data');
  socket.end();
  await once(socket, 'close');
}

async function drive(port: number, header: Buffer | undefined, count: number): Promise<void> {
  let remaining = count;
  const worker = async () => {
    while (remaining-- > 0) await oneConnection(port, header);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

interface Case {
  readonly name: string;
  readonly server: Server;
  readonly header: Buffer | undefined;
  /** The bare case with the same bytes on the wire. */
  readonly baseline?: Case;
  readonly samples: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(): Promise<string[]> {
  const bare = await startServer('bare');
  const servers = {
    bare,
    directInfo: await startServer('direct', 'info'),
    proxyInfo: await startServer('proxy', 'info'),
    directWarn: await startServer('direct', 'warn'),
    proxyWarn: await startServer('proxy', 'warn'),
  };
  const make = (name: string, server: Server, header: Buffer | undefined, baseline?: Case): Case => ({ name, server, header, baseline, samples: [] });
  const bareNone = make('bare net.Server', bare, undefined);
  const bareV1 = make('bare net.Server, client sends a v1 header', bare, V1);
  const bareV2 = make('bare net.Server, client sends a v2 header', bare, V2);
  const cases = [
    bareNone,
    bareV1,
    bareV2,
    make('Portico, direct (no proxy), log level info', servers.directInfo, undefined, bareNone),
    make('Portico, PROXY v1 from trusted peer, info', servers.proxyInfo, V1, bareV1),
    make('Portico, PROXY v2 from trusted peer, info', servers.proxyInfo, V2, bareV2),
    make('Portico, direct (no proxy), log level warn', servers.directWarn, undefined, bareNone),
    make('Portico, PROXY v1 from trusted peer, warn', servers.proxyWarn, V1, bareV1),
    make('Portico, PROXY v2 from trusted peer, warn', servers.proxyWarn, V2, bareV2),
  ];
  try {
    for (const c of cases) await drive(c.server.port, c.header, Math.ceil(CONNECTIONS / 4)); // warm-up (JIT)
    const perRound = Math.ceil(CONNECTIONS / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + round) % cases.length]!;
        const before = await c.server.cpu();
        await drive(c.server.port, c.header, perRound);
        c.samples.push((await c.server.cpu() - before) / perRound);
      }
    }
  } finally {
    for (const server of Object.values(servers)) server.stop();
  }

  /** Median over rounds of this case's CPU divided by the baseline's in the same round. */
  const ratio = (c: Case, baseline: Case) => `${median(c.samples.map((us, round) => us / baseline.samples[round]!)).toFixed(2)}x`;
  const row = (c: Case) => {
    const us = median(c.samples);
    const like = c.baseline ? ratio(c, c.baseline) : '';
    const spread = `${Math.min(...c.samples).toFixed(0)}-${Math.max(...c.samples).toFixed(0)}`;
    return `| ${c.name.padEnd(44)} | ${us.toFixed(1).padStart(7)} | ${spread.padStart(14)} | ${like.padStart(19)} | ${ratio(c, bareNone).padStart(18)} |`;
  };
  return [
    `${ROUNDS} rounds of ${Math.ceil(CONNECTIONS / ROUNDS)} connections per case, ${CONCURRENCY} at a time; ` +
      'server CPU (user+system) per connection, median round; ratios: median of per-round ratios',
    `| ${'server'.padEnd(44)} | µs/conn | rounds min-max | vs bare, same bytes | vs bare, no header |`,
    `|${'-'.repeat(46)}|---------|----------------|${'-'.repeat(21)}|${'-'.repeat(20)}|`,
    ...cases.map(row),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
