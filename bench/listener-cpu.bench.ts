// CPU per accepted connection: the Portico listener (PROXY v1/v2 header from a trusted peer, trust
// check, ConnectionInfo, limits, child logger and open/close lines through the logger users get)
// against a bare net.Server that does nothing, each in a child process. Goal: at most 1.2x the bare
// server. Neither server does anything with a connection but read it until the client closes.
//
// Like with like: a PROXY row is compared with a bare server receiving the same header bytes (it
// ignores them, but reading them costs a wake-up and a read), a direct row with a bare server
// receiving nothing. The listener runs at info (the default: two log lines per connection) and at
// warn (no per-connection line), which shows what the logging costs.
//
// Noise, and what was done about it (each found by measuring identical bare servers against each
// other, which differed by up to 1.2x before):
// - the servers are kept on one CPU and the client on the other (taskset), so that they do not take
//   turns on one core (bench/children.ts);
// - every Portico server has its own bare server, started next to it and measured exactly as often,
//   right before or after it (alternating from round to round), with a short unmeasured warm-up
//   before each measurement: a process that has just been busy is faster than one that sat idle;
// - the young generation of every server has one fixed size (V8_FLAGS in bench/children.ts);
// - a control pair of two identical bare servers is measured the same way; its ratio is the
//   method's own error in that run, printed with the results;
// - at a steady pace, a pair's measurement is cut into blocks of connections, its two servers taking
//   turns block by block: the VM's own pace drifts from second to second, and measured one whole
//   measurement after the other, the control's rounds ranged 0.73-1.12x and the Portico rows'
//   0.75-2.13x; in blocks, about 0.9-1.1x and 1.15-1.38x. (Measured at the same time, connections
//   alternating between the two servers, each warms the caches for the other: the Portico rows then
//   read about 0.1x lower, which is why that was not kept.) Each block asks both servers for their
//   CPU time twice; that costs each the same few tens of µs, under 0.5% of a block.
// A ratio is taken per pair and round; the median over rounds is reported.
import { lineChild, pinning, startServer, CLIENT_CPU, JIT_WARM_UP, SERVER_CPU, V1, V2, V8_FLAGS } from './children.ts';
import type { Server } from './children.ts';

/** Connections per measurement: enough that one garbage collection or scheduler tick is small in it. */
const PER_MEASUREMENT = Number(process.env.BENCH_CONNECTIONS ?? 2500);
const WARM_UP = 300;
const ROUNDS = 11;
/** New connections a second for the paced rows: well below what either server can take here. */
const PACED_RATE = 3000;
/** The blocks a paced measurement is cut into, its two servers taking turns. */
const PACED_BLOCKS = 10;


/** A server and the header its client sends; CPU µs per connection, one sample per measurement. */
interface Side {
  readonly server: Server;
  readonly header: string;
  /** New connections a second; undefined: 32 at a time, as fast as they go. */
  readonly rate: number | undefined;
  readonly samples: number[];
}

/** A Portico case (or the control) and a bare server of its own with the same bytes on the wire. */
interface Pair {
  readonly name: string;
  readonly measured: Side;
  readonly bare: Side;
  /** The measured side's CPU per connection over the bare side's, one per round. */
  readonly ratios: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(): Promise<string[]> {
  const client = lineChild('cpu-client.ts', [], CLIENT_CPU);
  const started: Server[] = [];
  const start = async (kind: Parameters<typeof startServer>[0], logLevel?: string) => {
    const server = await startServer(kind, logLevel);
    started.push(server);
    return server;
  };
  const side = (server: Server, header: string, rate: number | undefined): Side => ({ server, header, rate, samples: [] });
  const pairs: Pair[] = [];
  const add = (name: string, measured: Server, bare: Server, header: string, rate?: number) =>
    pairs.push({ name, measured: side(measured, header, rate), bare: side(bare, header, rate), ratios: [] });
  /** `count` connections to the side's server, at its pace unless `rate` says otherwise (0: full speed). */
  const connections = (s: Side, count: number, rate = s.rate) => client.ask(`${s.server.port} ${count} ${s.header || '-'}${rate ? ` ${rate}` : ''}`);
  try {
    // Each Portico server is started right after its bare partner.
    let bare = await start('bare');
    add('control: a second bare net.Server, no header', await start('bare'), bare, '');
    // The floor: what any server that knows its clients pays before doing anything else.
    bare = await start('bare');
    add('bare + getpeername', await start('bare-peer'), bare, '');
    bare = await start('bare');
    add("bare + getpeername + a 'close' listener", await start('bare-peer-close'), bare, '');
    for (const level of ['info', 'warn']) {
      bare = await start('bare');
      add(`Portico, direct (no proxy), log level ${level}`, await start('direct', level), bare, '');
      bare = await start('bare');
      const proxy = await start('proxy', level);
      add(`Portico, PROXY v1 from trusted peer, ${level}`, proxy, bare, V1);
      add(`Portico, PROXY v2 from trusted peer, ${level}`, proxy, bare, V2);
    }
    // The same at a steady PACED_RATE: each connection mostly has the server to itself, so neither
    // server gets to handle several per wake-up, as a busy one does above.
    bare = await start('bare');
    add(`control, ${PACED_RATE} connections/s`, await start('bare'), bare, '', PACED_RATE);
    bare = await start('bare');
    add(`Portico, direct, info, ${PACED_RATE}/s`, await start('direct'), bare, '', PACED_RATE);
    bare = await start('bare');
    add(`Portico, PROXY v2, info, ${PACED_RATE}/s`, await start('proxy'), bare, V2, PACED_RATE);
    bare = await start('bare');
    add(`Portico, PROXY v2, warn, ${PACED_RATE}/s`, await start('proxy', 'warn'), bare, V2, PACED_RATE);

    const measure = async (s: Side): Promise<number> => {
      await connections(s, WARM_UP);
      const before = await s.server.cpu();
      await connections(s, PER_MEASUREMENT);
      const us = (await s.server.cpu() - before) / PER_MEASUREMENT;
      s.samples.push(us);
      return us;
    };
    /** CPU µs of `count` connections to the side's server. */
    const block = async (s: Side, count: number): Promise<number> => {
      const before = await s.server.cpu();
      await connections(s, count);
      return (await s.server.cpu()) - before;
    };
    /** The pair's two sides in turns of PER_MEASUREMENT / PACED_BLOCKS connections, `first` first. */
    const measureInBlocks = async (p: Pair, first: Side, second: Side): Promise<void> => {
      for (const s of [first, second]) await connections(s, WARM_UP);
      const perBlock = Math.ceil(PER_MEASUREMENT / PACED_BLOCKS);
      const used = new Map([[first, 0], [second, 0]]);
      for (let b = 0; b < PACED_BLOCKS; b++) for (const s of [first, second]) used.set(s, used.get(s)! + (await block(s, perBlock)));
      const [measured, bare] = [p.measured, p.bare].map((s) => used.get(s)! / (perBlock * PACED_BLOCKS)) as [number, number];
      p.measured.samples.push(measured);
      p.bare.samples.push(bare);
      p.ratios.push(measured / bare);
    };
    // At full speed whatever the row's pace: how far V8 has optimized depends on how many
    // connections a server has handled, not on how fast they came.
    for (const p of pairs) for (const s of [p.bare, p.measured]) await connections(s, JIT_WARM_UP, 0);
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of pairs) {
        const bareFirst = round % 2 === 0;
        if (p.bare.rate !== undefined) {
          await measureInBlocks(p, bareFirst ? p.bare : p.measured, bareFirst ? p.measured : p.bare);
          continue;
        }
        const first = await measure(bareFirst ? p.bare : p.measured);
        const second = await measure(bareFirst ? p.measured : p.bare);
        p.ratios.push(bareFirst ? second / first : first / second);
      }
    }
  } finally {
    for (const server of started) server.stop();
    client.stop();
  }

  // "No header" compares with the control's bare server at the same pace.
  const bareNone = (p: Pair) => median(pairs.find((c) => c.name.startsWith('control') && c.bare.rate === p.bare.rate)!.bare.samples);
  const cell = (text: string, width: number) => text.padStart(width);
  return [
    `${JIT_WARM_UP} connections per server first (V8 optimizing); ${ROUNDS} rounds; per round each pair measured back to back (${WARM_UP} connections of warm-up, then ${PER_MEASUREMENT} ` +
      'measured, 32 at a time); ' +
      (pinning ? `servers on CPU ${SERVER_CPU}, client on CPU ${CLIENT_CPU}; ` : 'not pinned to CPUs (no taskset or one CPU); ') +
      `young generation fixed (${V8_FLAGS.join(' ')}); server CPU (user+system) per connection, medians; ` +
      `the rows with a rate get that many new connections a second instead, in ${PACED_BLOCKS} blocks per server taking turns`,
    `| ${'server'.padEnd(46)} | µs/conn | its bare | vs its bare (same bytes) | rounds min-max | vs bare, no header |`,
    `|${'-'.repeat(48)}|---------|----------|--------------------------|----------------|--------------------|`,
    ...pairs.map(
      (p) =>
        `| ${p.name.padEnd(46)} | ${cell(median(p.measured.samples).toFixed(1), 7)} | ${cell(median(p.bare.samples).toFixed(1), 8)} | ` +
        `${cell(`${median(p.ratios).toFixed(2)}x`, 24)} | ${cell(`${Math.min(...p.ratios).toFixed(2)}-${Math.max(...p.ratios).toFixed(2)}`, 14)} | ` +
        `${cell(`${(median(p.measured.samples) / bareNone(p)).toFixed(2)}x`, 18)} |`,
    ),
    "The control rows are the method's own error: two identical bare servers, measured as the Portico rows are. " +
      "The next two rows are the floor: a bare server that asks each socket's peer address and listens for 'close'. " +
      'The paced rows show the cost where a server wakes up for each connection rather than for several.',
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
