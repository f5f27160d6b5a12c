// CPU per accepted connection: the Portico listener (PROXY v1/v2 header from a trusted peer, trust
// check, ConnectionInfo, limits, child logger and open/close lines through the logger users get)
// against a bare net.Server that does nothing, each in a child process. Goal: at most 1.2x the bare
// server. Neither server does anything with a connection but read it until the client closes.
//
// Like with like: a PROXY row is compared with the bare server receiving the same header bytes (it
// ignores them, but reading them costs a wake-up and a read), a direct row with the bare server
// receiving nothing. The listener runs at info (the default: two log lines per connection) and at
// warn (no per-connection line), which shows what the logging costs.
//
// Noise: on a 2-CPU machine the servers are kept on one CPU and the client on the other (taskset),
// so that they do not take turns on one core. Every case is measured in several rounds,
// interleaved and in rotating order; a ratio is taken within each round (a case against its
// baseline measured moments apart) and the median of those is reported.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism } from 'node:os';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 36000);
const ROUNDS = 9;
const here = new URL('.', import.meta.url).pathname;

const V1 = '50524f58592054435034203139322e302e322e37203139322e302e322e32352034303030302032350d0a'; // PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n
const V2 = '0d0a0d0a000d0a515549540a2111000cc0000207c000021909c40019';

/** taskset pins a process to a CPU when there are two or more (Linux); otherwise nothing is pinned. */
const pinning = availableParallelism() >= 2 && spawnSync('taskset', ['--version']).status === 0;
const CLIENT_CPU = '0';
const SERVER_CPU = String(availableParallelism() - 1);

/** A child process spoken to in lines: each request line is answered by one line. */
function lineChild(script: string, args: string[], cpu: string, env: NodeJS.ProcessEnv = {}) {
  const command = [process.execPath, `${here}${script}`, ...args];
  const child: ChildProcessWithoutNullStreams = pinning
    ? spawn('taskset', ['-c', cpu, ...command], { env: { ...process.env, ...env } })
    : spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env } });
  child.stderr.pipe(process.stderr);
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

interface Server {
  readonly port: number;
  cpu(): Promise<number>;
  stop(): void;
}

/** Starts bench/cpu-server.ts; `logLevel` goes to the real logger through PORTICO_LOG_LEVEL. */
async function startServer(kind: 'bare' | 'direct' | 'proxy', logLevel = 'info'): Promise<Server> {
  const child = lineChild('cpu-server.ts', [kind], SERVER_CPU, { PORTICO_LOG_LEVEL: logLevel });
  const port = Number(await child.next());
  return { port, cpu: () => child.ask('cpu').then(Number), stop: child.stop };
}

interface Case {
  readonly name: string;
  readonly server: Server;
  readonly header: string;
  /** The bare case with the same bytes on the wire. */
  readonly baseline?: Case;
  readonly samples: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(): Promise<string[]> {
  const client = lineChild('cpu-client.ts', [], CLIENT_CPU);
  const servers = {
    bare: await startServer('bare'),
    directInfo: await startServer('direct', 'info'),
    proxyInfo: await startServer('proxy', 'info'),
    directWarn: await startServer('direct', 'warn'),
    proxyWarn: await startServer('proxy', 'warn'),
  };
  const make = (name: string, server: Server, header: string, baseline?: Case): Case => ({ name, server, header, baseline, samples: [] });
  const bareNone = make('bare net.Server', servers.bare, '');
  const bareV1 = make('bare net.Server, client sends a v1 header', servers.bare, V1);
  const bareV2 = make('bare net.Server, client sends a v2 header', servers.bare, V2);
  const cases = [
    bareNone,
    bareV1,
    bareV2,
    make('Portico, direct (no proxy), log level info', servers.directInfo, '', bareNone),
    make('Portico, PROXY v1 from trusted peer, info', servers.proxyInfo, V1, bareV1),
    make('Portico, PROXY v2 from trusted peer, info', servers.proxyInfo, V2, bareV2),
    make('Portico, direct (no proxy), log level warn', servers.directWarn, '', bareNone),
    make('Portico, PROXY v1 from trusted peer, warn', servers.proxyWarn, V1, bareV1),
    make('Portico, PROXY v2 from trusted peer, warn', servers.proxyWarn, V2, bareV2),
  ];
  const perRound = Math.ceil(CONNECTIONS / ROUNDS);
  try {
    for (const c of cases) await client.ask(`${c.server.port} ${Math.ceil(perRound / 2)} ${c.header}`); // warm-up (JIT)
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[(i + round) % cases.length]!;
        const before = await c.server.cpu();
        await client.ask(`${c.server.port} ${perRound} ${c.header}`);
        c.samples.push((await c.server.cpu() - before) / perRound);
      }
    }
  } finally {
    for (const server of Object.values(servers)) server.stop();
    client.stop();
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
    `${ROUNDS} rounds of ${perRound} connections per case, 32 at a time; ` +
      (pinning ? `servers on CPU ${SERVER_CPU}, client on CPU ${CLIENT_CPU}; ` : 'not pinned to CPUs (no taskset or one CPU); ') +
      'server CPU (user+system) per connection, median round; ratios: median of per-round ratios',
    `| ${'server'.padEnd(44)} | µs/conn | rounds min-max | vs bare, same bytes | vs bare, no header |`,
    `|${'-'.repeat(46)}|---------|----------------|${'-'.repeat(21)}|${'-'.repeat(20)}|`,
    ...cases.map(row),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
