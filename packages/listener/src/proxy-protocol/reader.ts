/**
 * Incremental PROXY header reader: push the connection's bytes as they arrive (one byte at a time or
 * header and client data together); it answers 'incomplete' until it can decide, then 'done' with the
 * bytes after the header as `rest` (never lost), or 'malformed' with a reason. It decides as early as
 * the bytes allow: a first byte that starts no signature, a bad v1 field or a bad v2 fixed part is
 * refused at once; a v1 line without CRLF within 107 bytes is refused at byte 107; a v2 header waits
 * for exactly 16 + length bytes. It never holds more than 16 + 65535 bytes.
 *
 * Hot path: when nothing is buffered and the chunk holds the whole header, the header is parsed in
 * place and `rest` is a view of the chunk: no copy, no concat.
 */
import { notAHeader } from './errors.ts';
import { parseV1, V1_MAX_LENGTH } from './v1.ts';
import { checkV2Prefix, parseV2, V2_FIXED_LENGTH, V2_SIGNATURE } from './v2.ts';
import type { Malformed, ProxyHeader, ReaderStep } from './types.ts';

const V1_SIGNATURE = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "

type Evaluation =
  | { state: 'incomplete' }
  | { state: 'sized'; total: number }
  | { state: 'done'; header: ProxyHeader }
  | Malformed;

const INCOMPLETE: { state: 'incomplete' } = { state: 'incomplete' };
/** `rest` when the chunk ended with the header, as it nearly always does: no view made for nothing. */
const NO_BYTES = Buffer.alloc(0);

function evaluate(buf: Buffer, avail: number): Evaluation {
  if (avail === 0) return INCOMPLETE;
  const first = buf[0];
  if (first === 0x50) return parseV1(buf, avail);
  if (first === 0x0d) {
    const prefix = checkV2Prefix(buf, avail);
    if (prefix.state !== 'sized' || avail < prefix.total) return prefix;
    return parseV2(buf, prefix.total);
  }
  return notAHeader(buf, avail);
}

export class ProxyHeaderReader {
  /** Header bytes received so far when the header spans several chunks. */
  private buffer: Buffer | undefined;
  private filled = 0;
  /** v2 total length once the fixed part is in; 0 before. */
  private total = 0;
  private result: { state: 'done'; header: ProxyHeader } | Malformed | undefined;

  /** Bytes buffered so far (the header is not complete yet). */
  get buffered(): number {
    return this.filled;
  }

  push(chunk: Buffer): ReaderStep {
    const decided = this.result;
    if (decided !== undefined) {
      // After the decision every further byte is client data (done) or the answer stays the same.
      return decided.state === 'done' ? { state: 'done', header: decided.header, rest: chunk } : decided;
    }
    if (this.filled === 0) {
      const step = evaluate(chunk, chunk.length);
      if (step.state === 'done') {
        this.result = step;
        const rest = step.header.length === chunk.length ? NO_BYTES : chunk.subarray(step.header.length);
        return { state: 'done', header: step.header, rest };
      }
      if (step.state === 'malformed') {
        this.result = step;
        return step;
      }
      if (chunk.length === 0) return INCOMPLETE;
      // Not decided yet: keep the bytes (fewer than 107 for v1, fewer than the known total for v2).
      if (step.state === 'sized') this.total = step.total;
      this.buffer = Buffer.allocUnsafe(this.capacity(chunk[0]!));
      chunk.copy(this.buffer, 0);
      this.filled = chunk.length;
      return INCOMPLETE;
    }
    return this.append(chunk);
  }

  private capacity(first: number): number {
    if (first === 0x50) return V1_MAX_LENGTH;
    return this.total > 0 ? this.total : V2_FIXED_LENGTH;
  }

  private append(chunk: Buffer): ReaderStep {
    let buffer = this.buffer!;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(buffer.length - this.filled, chunk.length - offset);
      chunk.copy(buffer, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      const step = evaluate(buffer, this.filled);
      if (step.state === 'done') {
        this.result = step;
        this.buffer = undefined;
        // The header ends inside this chunk: what follows it is the client's.
        const restStart = offset - (this.filled - step.header.length);
        return { state: 'done', header: step.header, rest: chunk.subarray(restStart) };
      }
      if (step.state === 'malformed') {
        this.result = step;
        this.buffer = undefined;
        return step;
      }
      if (step.state === 'sized' && this.total === 0) {
        this.total = step.total;
        const grown = Buffer.allocUnsafe(step.total);
        buffer.copy(grown, 0, 0, this.filled);
        this.buffer = buffer = grown;
      }
    }
    return INCOMPLETE;
  }
}

/**
 * What the first bytes of a connection look like: a v1 or v2 PROXY signature, a prefix of one so far
 * ('partial', also for no bytes at all), or neither. For spotting a header sent by an untrusted peer.
 */
export function detectProxyHeader(firstBytes: Buffer): 'v1' | 'v2' | 'none' | 'partial' {
  const n = firstBytes.length;
  if (n === 0) return 'partial';
  const signature = firstBytes[0] === 0x50 ? V1_SIGNATURE : firstBytes[0] === 0x0d ? V2_SIGNATURE : undefined;
  if (signature === undefined) return 'none';
  const m = n < signature.length ? n : signature.length;
  for (let i = 1; i < m; i++) if (firstBytes[i] !== signature[i]) return 'none';
  if (n < signature.length) return 'partial';
  return signature === V1_SIGNATURE ? 'v1' : 'v2';
}
