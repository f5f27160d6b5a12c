import pino from 'pino';

/** A pino destination whose gathered lines can also be written out at once (on exit, or by a test). */
export interface BatchedDestination extends pino.DestinationStream {
  flushSync(): void;
}

export interface BatchOptions {
  /** How long a line may wait before it is written. */
  readonly maxDelayMs: number;
  /** Gathered lines are written at once when they reach this many bytes. */
  readonly maxBytes: number;
}

/** Lines reach the operator within 25 ms; a busy server writes about 16 KB at a time. */
export const DEFAULT_BATCH: BatchOptions = { maxDelayMs: 25, maxBytes: 16 * 1024 };

const destinations = new Set<BatchedDestination>();
let exitHookInstalled = false;

/**
 * Log lines gathered and written together: at most `maxDelayMs` after the first of them was made,
 * or as soon as they reach `maxBytes`, and at exit.
 *
 * Every connection logs a line when it opens and one when it closes. Written one by one, each line
 * is a write(2), and on a virtual machine a system call costs about 3 µs: more than formatting the
 * line, and on its own about 6% of what the kernel and Node spend accepting and closing a
 * connection (bench/listener-cpu.bench.ts). NGINX's `access_log ... buffer= flush=` is the same idea.
 *
 * Each line is copied into one buffer made at the start, not kept as a string: a string kept until
 * the next write outlives a young-generation collection, is copied to the old generation and has to
 * be collected there. Measured (`--trace-gc-nvp`), keeping strings promoted about 500 bytes per
 * connection, and garbage collection is a large part of the CPU a connection costs.
 *
 * An 'exit' hook writes what is left (a normal exit, a crash with an exception, process.exit);
 * only SIGKILL or an abort can lose the last `maxDelayMs` of lines. sonic-boom does the writing
 * (partial writes, EAGAIN on a non-blocking pipe).
 */
export function batchedDestination(dest: number | string = 1, batch: BatchOptions = DEFAULT_BATCH): BatchedDestination {
  const stream = pino.destination({ dest, sync: true, contentMode: 'buffer' });
  // In 'buffer' content mode sonic-boom takes bytes; its types only know strings.
  const writeBytes = (bytes: Buffer) => (stream as unknown as { write(bytes: Buffer): boolean }).write(bytes);
  const gathered = Buffer.allocUnsafe(batch.maxBytes);
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  const destination: BatchedDestination = {
    write(line: string) {
      const free = gathered.length - used;
      // Most lines are ASCII, shorter than a third of the free space and surely fit: no byteLength scan.
      if (line.length * 3 <= free || Buffer.byteLength(line) <= free) {
        used += gathered.write(line, used);
        if (used === gathered.length) destination.flushSync();
      } else {
        // This line takes the batch over its size: everything goes out now, the line after the rest.
        destination.flushSync();
        writeBytes(Buffer.from(line));
        return;
      }
      // unref: a line waiting to be written must not keep a finished process alive; 'exit' writes it.
      if (timer === undefined && used > 0) timer = setTimeout(destination.flushSync, batch.maxDelayMs).unref();
    },
    flushSync() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (used === 0) return;
      // A copy: sonic-boom may keep a partly written buffer for later, and `gathered` is reused.
      const bytes = Buffer.from(gathered.subarray(0, used));
      used = 0;
      writeBytes(bytes);
    },
  };
  destinations.add(destination);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const each of destinations) each.flushSync();
    });
  }
  return destination;
}
