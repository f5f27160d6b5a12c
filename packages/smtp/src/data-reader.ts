/**
 * Reads DATA content (RFC 5321 4.1.1.4, 4.5.2): lines end in CRLF only; a line holding a single "."
 * ends the message; a leading "." is removed (dot-unstuffing).
 *
 * SMTP smuggling (CVE-2023-51764/51765/51766): `<LF>.<LF>`, `<CR>.<CR>`, `<LF>.<CR><LF>` and
 * `<CR><LF>.<LF>` never end the message here, because only a CRLF "." CRLF sequence is a terminator; a bare
 * CR or LF anywhere in the content marks the message, which is then refused as a whole (nothing in it
 * is ever read as a command). The size limit is enforced while streaming: content beyond it is counted
 * and dropped, never buffered.
 */
export interface DataResult {
  /** The unstuffed content, with CRLF line ends; empty when tooBig. */
  readonly message: Buffer;
  readonly size: number;
  readonly tooBig: boolean;
  readonly bareLineEnding: boolean;
  /** Bytes that followed the terminator (pipelined commands). */
  readonly rest: Buffer;
}

const CRLF = Buffer.from('\r\n');
const FLUSH_AT = 64 * 1024;

export class DataReader {
  readonly maxSize: number;
  #pending: Buffer = Buffer.alloc(0);
  /** The pending bytes continue a line whose start was dropped (never a terminator or a stuffed dot). */
  #continued = false;
  #chunks: Buffer[] = [];
  #size = 0;
  #tooBig = false;
  #bare = false;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  /** Feeds bytes; answers the result once the terminator has arrived. */
  push(chunk: Buffer): DataResult | undefined {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let start = 0;
    for (;;) {
      const end = data.indexOf(CRLF, start);
      if (end === -1) break;
      const line = data.subarray(start, end);
      start = end + 2;
      const continued = this.#continued;
      this.#continued = false;
      if (!continued && line.length === 1 && line[0] === 0x2e) {
        return this.#finish(Buffer.from(data.subarray(start)));
      }
      if (line.includes(0x0a) || line.includes(0x0d)) this.#bare = true;
      this.#append(!continued && line[0] === 0x2e ? line.subarray(1) : line);
      this.#append(CRLF);
    }
    const rest = data.subarray(start);
    // A partial line longer than FLUSH_AT is passed on (keeping its last byte, which may be the CR of
    // a CRLF split across chunks), so a client cannot make us re-scan a huge line on every chunk.
    if (rest.length > FLUSH_AT) {
      const head = rest.subarray(0, rest.length - 1);
      if (head.includes(0x0a) || head.includes(0x0d)) this.#bare = true;
      this.#append(!this.#continued && head[0] === 0x2e ? head.subarray(1) : head);
      this.#pending = Buffer.from(rest.subarray(rest.length - 1));
      this.#continued = true;
    } else {
      this.#pending = Buffer.from(rest);
    }
    return undefined;
  }

  #append(bytes: Buffer): void {
    this.#size += bytes.length;
    if (this.#size > this.maxSize) {
      this.#tooBig = true;
      this.#chunks = [];
      return;
    }
    this.#chunks.push(Buffer.from(bytes));
  }

  #finish(rest: Buffer): DataResult {
    return {
      message: this.#tooBig ? Buffer.alloc(0) : Buffer.concat(this.#chunks),
      size: this.#size,
      tooBig: this.#tooBig,
      bareLineEnding: this.#bare,
      rest,
    };
  }
}
