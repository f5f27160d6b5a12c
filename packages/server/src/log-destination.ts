import pino from 'pino';

/** A pino destination whose gathered lines can also be written out at once (on exit, or by a test). */
export interface BatchedDestination extends pino.DestinationStream {
  flushSync(): void;
}

export interface BatchOptions {
  /** How long a line may wait before it is written. */
  readonly maxDelayMs: number;
  /** Gathered lines are written at once when they reach this many characters. */
  readonly maxChars: number;
  /** A batch is handed to the system in writes of about this many characters (default WRITE_CHARS). */
  readonly writeChars?: number;
}

/** What the lines are handed to: sonic-boom in buffer mode (its types list only strings). */
interface ByteStream {
  write(bytes: Buffer): boolean;
}

/**
 * Lines reach the operator within 200 ms; a busy server writes up to 256 K characters at a time.
 * Each batch written costs more than its bytes (Node's timers, the conversion, sonic-boom and the
 * system call, mostly on code that went cold since the last batch): with 25 ms and 16 K, as it was,
 * a server taking a steady 3000 connections a second spent 0.06-0.09x of a bare server's CPU per
 * connection more than with these (bench/listener-cpu.bench.ts, paced rows).
 */
export const DEFAULT_BATCH: BatchOptions = { maxDelayMs: 200, maxChars: 256 * 1024 };

/**
 * A batch is written in pieces of about 32 K characters: a string or Buffer several times that
 * size is a large object to V8 and to malloc, given fresh pages each time (about 0.1 more minor
 * page faults a connection at 256 K, and 1-2% more CPU a connection on a busy server).
 */
export const WRITE_CHARS = 32 * 1024;

const destinations = new Set<BatchedDestination>();

/**
 * The text in UTF-8, written into room for the longest it can be (3 bytes for each UTF-16 unit)
 * rather than measured first: Buffer.from(text) counts its UTF-8 bytes before it converts them, a
 * pass over every line that cost about 1 K instructions a connection (callgrind). A fresh buffer
 * each time: sonic-boom may keep one until it is written.
 */
function utf8Bytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafe(text.length * 3);
  return bytes.subarray(0, bytes.write(text));
}

/** The lines, in order, as writes of whole lines of at least `pieceChars` characters (the last one may be less). */
function writeInPieces(stream: ByteStream, lines: string[], pieceChars: number): void {
  let first = 0;
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += lines[i]!.length;
    if (chars < pieceChars && i < lines.length - 1) continue;
    stream.write(utf8Bytes(i === first ? lines[i]! : lines.slice(first, i + 1).join('')));
    first = i + 1;
    chars = 0;
  }
}

let exitHookInstalled = false;

/**
 * Log lines gathered and written together: at most `maxDelayMs` after the first of them was made,
 * or as soon as they reach `maxChars`, and at exit.
 *
 * Every connection logs a line when it opens and one when it closes. Written one by one, each line
 * is a write(2), and on a virtual machine a system call costs about 3 µs: more than formatting the
 * line, and on its own about 6% of what the kernel and Node spend accepting and closing a
 * connection (bench/listener-cpu.bench.ts). NGINX's `access_log ... buffer= flush=` is the same idea.
 * An 'exit' hook writes what is left (a normal exit, a crash with an exception, process.exit);
 * only SIGKILL or an abort can lose the last `maxDelayMs` of lines. sonic-boom does the writing
 * (partial writes, EAGAIN on a non-blocking pipe). It is handed bytes, converted once here: given a
 * string, it measures it in UTF-8 twice and converts it twice (once to write it, once more to see
 * what is left), about 1.7-1.9 K instructions a connection (callgrind, the listener benchmark's
 * server); Buffer.from(text) still measures it once, which utf8Bytes does not.
 */
export function batchedDestination(dest: number | string = 1, batch: BatchOptions = DEFAULT_BATCH): BatchedDestination {
  const stream = pino.destination({ dest, sync: true, contentMode: 'buffer' }) as unknown as ByteStream;
  const writeChars = batch.writeChars ?? WRITE_CHARS;
  let lines: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const destination: BatchedDestination = {
    write(line: string) {
      lines.push(line);
      chars += line.length;
      if (chars >= batch.maxChars) destination.flushSync();
      // unref: a line waiting to be written must not keep a finished process alive; 'exit' writes it.
      else if (timer === undefined) timer = setTimeout(destination.flushSync, batch.maxDelayMs).unref();
    },
    flushSync() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (lines.length === 0) return;
      const gathered = lines;
      lines = [];
      chars = 0;
      writeInPieces(stream, gathered, writeChars);
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
