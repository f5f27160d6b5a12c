/**
 * The body of a multi-line response (RFC 1939 section 3): every line ends in CRLF, a line that begins
 * with "." gets another "." in front (byte-stuffing), and ".CRLF" ends the response. Message bytes
 * are otherwise sent as stored, so RETR round-trips a message byte for byte; a bare LF (not in mail
 * Portico stores, which is CRLF throughout) is sent as CRLF so the terminator cannot be faked.
 */
const CRLF = Buffer.from('\r\n');
const DOT = Buffer.from('.');
const END = Buffer.from('.\r\n');

/** The stuffed lines of `body`, terminator included, as buffers to write in order. */
export function multilineBody(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const lf = body.indexOf(0x0a, start);
    const end = lf === -1 ? body.length : lf;
    const contentEnd = end > start && body[end - 1] === 0x0d ? end - 1 : end;
    if (body[start] === 0x2e) out.push(DOT);
    out.push(body.subarray(start, contentEnd), CRLF);
    start = end + 1;
  }
  out.push(END);
  return out;
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
