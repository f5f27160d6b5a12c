// Instructions per connection: the servers of listener-cpu.bench.ts run under valgrind's callgrind,
// which counts the instructions the server's main thread runs in user space. On a shared VM the CPU
// rows of listener-cpu move by several percent from run to run; these counts repeat to about 1%, so
// they show what a change to the listener did where the CPU rows cannot. They say nothing about the
// kernel's share (the larger one: accept, reads, close), nor about cache misses.
//
// Garbage collection is reported apart: it comes in steps of thousands of connections, so whether
// one falls into the counted window moves the total by several thousand instructions a connection.
// Needs valgrind (Debian: apt-get install valgrind); without it, says so and measures nothing.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineChild, bareRowFor, CLIENT_CPU, JIT_WARM_UP, SERVER_CPU, ROW } from './children.ts';
import type { ServerRow } from './children.ts';

const WARM_UP = JIT_WARM_UP;
const MEASURED = Number(process.env.BENCH_CONNECTIONS ?? 3000);

const ROWS: ServerRow[] = [ROW.bare, ROW.bareV2, ROW.floor, ROW.directInfo, ROW.directWarn, ROW.proxyV2];

/** V8's and the heap's functions, as callgrind_annotate names them: the garbage collector's work. */
const GARBAGE_COLLECTION =
  /Scaveng|MarkCompact|Marking|Sweep|Evacuat|GCTracer|Heap::Collect|Heap::Perform|RootMarking|IterateObjectCache|StringTableCleaner|RememberedSet|PointersUpdating|BodyDescriptorBase::Iterate|SizeFromMap|Heap::Iterate|HeapObjectAndSlot|LiveObjectVisitor|ClearNonLive|WeakReferences|ConcurrentMarking|heap::base/;
/** Lines of callgrind_annotate's per-function list that are whole call chains, not one function's own work. */
const OUTER_FRAMES = /__libc_start_main|\(below main\)|ld-linux|node::Start|NodeMainInstance|SpinEventLoop|:main \[/;

const installed = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** The main thread's instructions in a callgrind dump: in all, and in the garbage collector. */
function instructions(dump: string): { total: number; garbageCollection: number } {
  const annotated = spawnSync('callgrind_annotate', ['--threshold=100', dump], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
  let total = 0;
  let garbageCollection = 0;
  for (const line of annotated.split('\n')) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!match) continue;
    const count = Number(match[1]!.replaceAll(',', ''));
    const name = match[2]!;
    if (name.includes('PROGRAM TOTALS')) total = count;
    else if (!OUTER_FRAMES.test(name) && GARBAGE_COLLECTION.test(name)) garbageCollection += count;
  }
  return { total, garbageCollection };
}

/** bench/cpu-server.ts under callgrind, writing its counts to `outFile`. */
function startCounted(row: ServerRow, outFile: string) {
  const valgrind = ['valgrind', '--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`];
  return lineChild('cpu-server.ts', [row.kind], SERVER_CPU, { PORTICO_LOG_LEVEL: row.logLevel ?? 'info' }, valgrind);
}

export async function run(): Promise<string[]> {
  if (!installed('valgrind') || !installed('callgrind_control') || !installed('callgrind_annotate')) {
    return ['Not measured: valgrind (callgrind) is not installed (Debian: apt-get install valgrind).'];
  }
  const client = lineChild('cpu-client.ts', [], CLIENT_CPU);
  const dir = mkdtempSync(join(tmpdir(), 'portico-callgrind-'));
  const counted = new Map<ServerRow, { total: number; garbageCollection: number }>();
  try {
    for (const [index, row] of ROWS.entries()) {
      const outFile = join(dir, `row${index}`);
      const server = startCounted(row, outFile);
      try {
        const port = Number(await server.next());
        const connections = (count: number) => client.ask(`${port} ${count} ${row.header || '-'}`);
        await connections(WARM_UP);
        spawnSync('callgrind_control', ['-z', String(server.pid)]);
        await connections(MEASURED);
        spawnSync('callgrind_control', ['-d', String(server.pid)]);
        // The first dump, first thread: the main thread's counts since the counters were zeroed.
        const { total, garbageCollection } = instructions(`${outFile}.1-01`);
        counted.set(row, { total: total / MEASURED, garbageCollection: garbageCollection / MEASURED });
      } finally {
        // It writes its last counts as it exits: wait, so that the directory can go.
        server.stop();
        await server.exited;
      }
    }
  } finally {
    client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const withoutGc = (row: ServerRow) => counted.get(row)!.total - counted.get(row)!.garbageCollection;
  const k = (n: number) => `${(n / 1000).toFixed(1)} K`;
  return [
    `Main-thread instructions per connection in user space (valgrind --tool=callgrind), ${MEASURED} connections ` +
      `after ${WARM_UP} of warm-up, 32 at a time; garbage collection apart (it comes in steps)`,
    `| ${'server'.padEnd(42)} | without GC | vs bare (same bytes) | GC in the window |`,
    `|${'-'.repeat(44)}|------------|----------------------|------------------|`,
    ...ROWS.map((row) => {
      const { garbageCollection } = counted.get(row)!;
      return (
        `| ${row.name.padEnd(42)} | ${k(withoutGc(row)).padStart(10)} | ` +
        `${`${(withoutGc(row) / withoutGc(bareRowFor(ROWS, row.header))).toFixed(2)}x`.padStart(20)} | ${k(garbageCollection).padStart(16)} |`
      );
    }),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await run()) console.log(line);
