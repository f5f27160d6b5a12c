/**
 * MIME building blocks (RFC 5322 / 2045-2047 / 2231) shared by JMAP (packages/http) and IMAP: where a
 * header ends, header fields with their folding, structured values with parameters, multipart
 * boundaries as byte ranges, transfer and charset decoding, encoded words.
 */

export interface RawHeader {
  readonly name: string;
  /** Everything after the colon, folding kept (RFC 8621 "Raw" form). */
  readonly value: string;
}

export interface HeaderEnd {
  /** Where the header fields end (the blank line not included). */
  readonly headEnd: number;
  /** Where the body starts (after the blank line); the message length when there is no body. */
  readonly bodyStart: number;
}

/** The header / body split: the first blank line (CRLF or bare LF); no blank line: all header. */
export function findHeaderEnd(raw: Buffer): HeaderEnd {
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headEnd: 0, bodyStart: 2 };
  if (raw[0] === 0x0a) return { headEnd: 0, bodyStart: 1 };
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { headEnd: crlf, bodyStart: crlf + 4 };
  if (lf !== -1) return { headEnd: lf, bodyStart: lf + 2 };
  return { headEnd: raw.length, bodyStart: raw.length };
}

export function parseHeaderBlock(head: string): RawHeader[] {
  const out: { name: string; value: string }[] = [];
  for (const line of head.split(/(?<=\n)/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      out[out.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1) });
  }
  return out.map((h) => ({ name: h.name, value: h.value.replace(/\r?\n$/, '') }));
}

export function lastHeader(headers: readonly RawHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.name.toLowerCase() === lower) return headers[i]!.value;
  return undefined;
}

export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, '');
}

export interface StructuredValue {
  value: string;
  params: Map<string, string>;
}

/** "text/plain; charset=utf-8; name*=utf-8''%E2%82%AC.txt" -> value + parameters (RFC 2231 decoded). */
export function parseStructured(raw: string): StructuredValue {
  const text = unfold(raw).replace(/\([^()]*\)/g, '');
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < text.length) current += text[++i];
      else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      tokens.push(current);
      current = '';
    } else current += c;
  }
  tokens.push(current);
  const params = new Map<string, string>();
  const continued = new Map<string, { index: number; text: string; encoded: boolean }[]>();
  for (const token of tokens.slice(1)) {
    const eq = token.indexOf('=');
    if (eq === -1) continue;
    const key = token.slice(0, eq).trim().toLowerCase();
    const val = token.slice(eq + 1).trim();
    const m = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (!m) {
      params.set(key, val);
      continue;
    }
    const base = m[1]!;
    const list = continued.get(base) ?? [];
    list.push({ index: m[2] === undefined ? 0 : Number(m[2]), text: val, encoded: m[3] !== undefined || m[2] === undefined });
    continued.set(base, list);
  }
  for (const [base, pieces] of continued) {
    pieces.sort((a, b) => a.index - b.index);
    let charset = 'utf-8';
    const bytes: number[] = [];
    pieces.forEach((piece, i) => {
      let t = piece.text;
      if (piece.encoded && i === 0) {
        const parts = t.split("'");
        if (parts.length >= 3) {
          charset = parts[0] || 'utf-8';
          t = parts.slice(2).join("'");
        }
      }
      if (piece.encoded) {
        for (let j = 0; j < t.length; j++) {
          if (t[j] === '%' && /^[0-9a-fA-F]{2}$/.test(t.slice(j + 1, j + 3))) {
            bytes.push(parseInt(t.slice(j + 1, j + 3), 16));
            j += 2;
          } else bytes.push(...Buffer.from(t[j]!, 'utf8'));
        }
      } else bytes.push(...Buffer.from(t, 'utf8'));
    });
    params.set(base, decodeCharset(Buffer.from(bytes), charset).text);
  }
  return { value: (tokens[0] ?? '').trim(), params };
}

export function decodeCharset(bytes: Buffer, charset: string | null): { text: string; problem: boolean } {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  try {
    return { text: new TextDecoder(label === 'us-ascii' ? 'utf-8' : label, { fatal: true }).decode(bytes), problem: false };
  } catch {
    let decoder: InstanceType<typeof TextDecoder>;
    try {
      decoder = new TextDecoder(label);
    } catch {
      decoder = new TextDecoder('utf-8');
    }
    return { text: decoder.decode(bytes), problem: true };
  }
}

export function decodeQuotedPrintable(text: string): Buffer {
  const out: number[] = [];
  const body = text.replace(/[ \t]+(?=\r?\n)/g, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '=') {
      if (body[i + 1] === '\r' && body[i + 2] === '\n') {
        i += 2;
        continue;
      }
      if (body[i + 1] === '\n') {
        i += 1;
        continue;
      }
      const hex = body.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    out.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

/**
 * The body parts between `--boundary` lines, as [start, end) offsets into `body` (preamble, epilogue
 * and the line break before each delimiter dropped). No closing delimiter: the last part runs to the end.
 */
export function multipartRanges(body: Buffer, boundary: string): { start: number; end: number }[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: { start: number; end: number }[] = [];
  let start = -1;
  let pos = 0;
  while (pos <= text.length) {
    const at = text.indexOf(delimiter, pos);
    if (at === -1) break;
    const lineStart = at === 0 || text[at - 1] === '\n';
    if (!lineStart) {
      pos = at + delimiter.length;
      continue;
    }
    if (start !== -1) {
      let end = at;
      if (text[end - 1] === '\n') end--;
      if (text[end - 1] === '\r') end--;
      parts.push({ start, end: Math.max(start, end) });
    }
    const closing = text.startsWith('--', at + delimiter.length);
    const eol = text.indexOf('\n', at + delimiter.length);
    if (closing || eol === -1) return parts;
    start = eol + 1;
    pos = start;
  }
  if (start !== -1 && start < text.length) parts.push({ start, end: text.length });
  return parts;
}

/** RFC 2047 encoded words ("=?utf-8?Q?caf=C3=A9?="), whitespace between adjacent ones dropped. */
export function decodeWords(text: string): string {
  return text
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (whole, charset: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' '));
      const decoded = decodeCharset(bytes, charset.split('*')[0] ?? 'utf-8');
      return decoded.problem && !/^utf-?8$/i.test(charset) ? whole : decoded.text;
    });
}
