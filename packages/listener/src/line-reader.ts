/**
 * Splits a command stream into lines, for every line-based protocol (SMTP, POP3, IMAP). A line ends
 * at LF (a preceding CR is removed): commands are short and unambiguous, so a bare-LF client is
 * tolerated here; content with stricter rules (SMTP DATA, IMAP literals) is taken raw with takeRest.
 * A line longer than maxLength is reported once and skipped up to its end.
 */
export type LineEvent = { kind: 'line'; line: string } | { kind: 'too-long' };

export class LineReader {
  #buffer: Buffer = Buffer.alloc(0);
  #discarding = false;
  readonly maxLength: number;

  constructor(maxLength: number) {
    this.maxLength = maxLength;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** Bytes received but not yet taken as lines (SMTP DATA, IMAP literals; discarded after STARTTLS). */
  takeRest(): Buffer {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    this.#discarding = false;
    return rest;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  next(): LineEvent | undefined {
    for (;;) {
      const lf = this.#buffer.indexOf(0x0a);
      if (lf === -1) {
        if (this.#buffer.length > this.maxLength) {
          this.#buffer = Buffer.alloc(0);
          if (!this.#discarding) {
            this.#discarding = true;
            return { kind: 'too-long' };
          }
        }
        return undefined;
      }
      const raw = this.#buffer.subarray(0, lf);
      this.#buffer = this.#buffer.subarray(lf + 1);
      if (this.#discarding) {
        this.#discarding = false;
        continue;
      }
      if (raw.length + 1 > this.maxLength) return { kind: 'too-long' };
      const end = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.length - 1 : raw.length;
      return { kind: 'line', line: raw.subarray(0, end).toString('utf8') };
    }
  }
}
