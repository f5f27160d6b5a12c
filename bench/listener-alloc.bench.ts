// Bytes allocated per connection: the Portico listener against a bare net.Server that does nothing,
// with the same servers and client as listener-cpu.bench.ts. Unlike CPU time on a shared VM, this
// hardly moves from run to run (V8's sampling heap profiler estimates it; two runs agree within
// about 3%), so it shows what a change to the listener did even where the CPU rows cannot. It
// matters for CPU too: allocating costs time (about 0.5 ns a byte on the VM this was built on), and
// everything allocated is memory the CPU's caches had to make room for.
import { lineChild, startServer, bareRowFor, CLIENT_CPU, JIT_WARM_UP, ROW } from './children.ts';
import type { ServerRow } from './children.ts';

const WARM_UP = JIT_WARM_UP;
const MEASURED = Number(process.env.BENCH_CONNECTIONS ?? 20_000);

const ROWS: ServerRow[] = [ROW.bare, ROW.bareV1, ROW.bareV2, ROW.directInfo, ROW.directWarn, ROW.proxyV1, ROW.proxyV2];

export async function run(): Promise<string[]> {
  const client = lineChild('cpu-client.ts', [], CLIENT_CPU);
  const perConnection = new Map<ServerRow, number>();
  try {
    for (const row of ROWS) {
      const server = await startServer(row.kind, row.logLevel);
      try {
        const connections = (count: number) => client.ask(`${server.port} ${count} ${row.header || '-'}`);
        await connections(WARM_UP);
        await server.startCountingAllocations();
        await connections(MEASURED);
        perConnection.set(row, (await server.allocatedBytes()) / MEASURED);
      } finally {
        server.stop();
      }
    }
  } finally {
    client.stop();
  }
  return [
    `Bytes allocated per connection (V8's sampling heap profiler, objects already collected included), ` +
      `${MEASURED} connections after ${WARM_UP} of warm-up, 32 at a time`,
    `| ${'server'.padEnd(42)} | bytes/conn | vs bare (same bytes) |`,
    `|${'-'.repeat(44)}|------------|----------------------|`,
    ...ROWS.map((row) => {
      const bytes = perConnection.get(row)!;
      return `| ${row.name.padEnd(42)} | ${bytes.toFixed(0).padStart(10)} | ${`${(bytes / perConnection.get(bareRowFor(ROWS, row.header))!).toFixed(2)}x`.padStart(20)} |`;
    }),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
