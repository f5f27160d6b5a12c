/** Reason texts: each names the byte or field at fault, so a log line alone explains a refusal. */
import type { Malformed } from './types.ts';

export function malformed(reason: string, offset: number): Malformed {
  return { state: 'malformed', reason, offset };
}

export function hex2(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/** One byte for a message: `'%' (0x25)` when printable, else `0x0d`. */
export function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}' (${hex2(byte)})` : hex2(byte);
}

/** Bytes as an escaped, double-quoted string, at most `max` bytes (then "..."). */
export function quoteBytes(buf: Uint8Array, start: number, end: number, max = 48): string {
  let out = '"';
  const stop = Math.min(end, start + max);
  for (let i = start; i < stop; i++) {
    const b = buf[i]!;
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x00) out += '\\0';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return end > stop ? `${out}..."` : `${out}"`;
}

export function notAHeader(buf: Uint8Array, avail: number, offset = 0): Malformed {
  return malformed(`not a PROXY protocol header (first bytes ${quoteBytes(buf, 0, Math.min(avail, 8), 8)})`, offset);
}
