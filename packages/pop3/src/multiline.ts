/**
 * The body of a multi-line response (RFC 1939 section 3): every line ends in CRLF, a line that begins
 * with "." gets another "." in front (byte-stuffing), and ".CRLF" ends the response. Message bytes
 * are otherwise sent as stored, so RETR round-trips a message byte for byte; a bare LF (not in mail
 * Portico stores, which is CRLF throughout) is sent as CRLF so the terminator cannot be faked.
 */
const END = Buffer.from('.\r\n');

/**
 * The stuffed body, terminator included, as a few buffers to write in order. The output is sized in
 * a first pass and filled in a second: one buffer per line would cost a message of 10 MB of "."
 * lines millions of objects (anyone who can send mail could plant one for the next RETR).
 */
export function multilineBody(body: Buffer): Buffer[] {
  let size = 0;
  forEachLine(body, (start, contentEnd) => {
    size += (body[start] === 0x2e ? 1 : 0) + (contentEnd - start) + 2;
  });
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  forEachLine(body, (start, contentEnd) => {
    if (body[start] === 0x2e) out[at++] = 0x2e;
    at += body.copy(out, at, start, contentEnd);
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  });
  return [out, END];
}

/** Calls `line(start, contentEnd)` for each line of `body`, contentEnd excluding its CR LF or LF. */
function forEachLine(body: Buffer, line: (start: number, contentEnd: number) => void): void {
  let start = 0;
  while (start < body.length) {
    const lf = body.indexOf(0x0a, start);
    const end = lf === -1 ? body.length : lf;
    line(start, end > start && body[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
  }
}

/** A multi-line response made of text lines (CAPA, LIST, UIDL): no line may begin with "." unstuffed. */
export function multilineText(lines: readonly string[]): string {
  return lines.map((line) => (line.startsWith('.') ? '.' + line : line) + '\r\n').join('') + '.\r\n';
}

/**
 * TOP (RFC 1939 section 7): the header section, the empty line that ends it, then the first `lines`
 * lines of the body. A message without an empty line is all header.
 */
export function topOf(message: Buffer, lines: number): Buffer {
  let start = 0;
  // Header lines up to and including the first empty line.
  while (start < message.length) {
    const lf = message.indexOf(0x0a, start);
    const next = lf === -1 ? message.length : lf + 1;
    const empty = next - start <= 2 && (message[start] === 0x0a || (message[start] === 0x0d && message[start + 1] === 0x0a));
    start = next;
    if (empty) break;
  }
  let end = start;
  for (let i = 0; i < lines && end < message.length; i++) {
    const lf = message.indexOf(0x0a, end);
    end = lf === -1 ? message.length : lf + 1;
  }
  return message.subarray(0, end);
}
