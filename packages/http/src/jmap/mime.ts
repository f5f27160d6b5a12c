/**
 * A small MIME parser (RFC 5322 / 2045-2047 / 2231), enough for JMAP Email/get: headers, single-part
 * and nested multipart bodies, base64 and quoted-printable, charsets through TextDecoder.
 * message/rfc822 parts are leaves (their blob is the enclosed message), as RFC 8621 wants.
 */

export interface RawHeader {
  readonly name: string;
  /** Everything after the colon, folding kept (RFC 8621 "Raw" form). */
  readonly value: string;
}

export interface MimePart {
  /** Set on leaf parts only (RFC 8621: multipart parts have partId null). */
  readonly partId: string | null;
  readonly headers: readonly RawHeader[];
  /** Lower-cased media type, "text/plain" when absent. */
  readonly type: string;
  readonly charset: string | null;
  readonly name: string | null;
  readonly disposition: string | null;
  readonly cid: string | null;
  readonly language: string[] | null;
  readonly location: string | null;
  /** The decoded content (empty for multipart parts). */
  readonly content: Buffer;
  readonly subParts: MimePart[] | null;
}

export interface ParsedMessage {
  readonly headers: readonly RawHeader[];
  readonly root: MimePart;
}

const MAX_DEPTH = 20;

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const text = raw.toString('latin1');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (text.startsWith('\r\n')) return { head: '', body: raw.subarray(2) };
  if (text.startsWith('\n')) return { head: '', body: raw.subarray(1) };
  let end: number;
  let skip: number;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) [end, skip] = [crlf, 4];
  else if (lf !== -1) [end, skip] = [lf, 2];
  else return { head: raw.toString('utf8'), body: Buffer.alloc(0) };
  return { head: raw.subarray(0, end).toString('utf8'), body: raw.subarray(end + skip) };
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

interface StructuredValue {
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

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.toString('latin1'));
    default:
      return body;
  }
}

/** The body parts between `--boundary` lines (preamble and epilogue dropped). */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
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
      parts.push(body.subarray(start, Math.max(start, end)));
    }
    const closing = text.startsWith('--', at + delimiter.length);
    const eol = text.indexOf('\n', at + delimiter.length);
    if (closing || eol === -1) return parts;
    start = eol + 1;
    pos = start;
  }
  if (start !== -1 && start < text.length) parts.push(body.subarray(start));
  return parts;
}

export function parseMessage(raw: Buffer): ParsedMessage {
  let counter = 0;
  const nextId = () => String(++counter);

  function parsePart(bytes: Buffer, defaultType: string, depth: number): MimePart {
    const { head, body } = splitHead(bytes);
    const headers = parseHeaderBlock(head);
    const ct = parseStructured(lastHeader(headers, 'content-type') ?? defaultType);
    let type = ct.value.toLowerCase();
    if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) type = 'text/plain';
    const cd = lastHeader(headers, 'content-disposition');
    const disposition = cd === undefined ? null : parseStructured(cd);
    const cid = lastHeader(headers, 'content-id');
    const language = lastHeader(headers, 'content-language');
    const location = lastHeader(headers, 'content-location');
    const name = disposition?.params.get('filename') ?? ct.params.get('name') ?? null;
    const common = {
      headers,
      type,
      charset: ct.params.get('charset') ?? (type.startsWith('text/') ? 'us-ascii' : null),
      name: name === null ? null : decodeWords(name),
      disposition: disposition ? disposition.value.toLowerCase() || null : null,
      cid: cid === undefined ? null : unfold(cid).trim().replace(/^<|>$/g, ''),
      language: language === undefined ? null : unfold(language).split(',').map((l) => l.trim()).filter(Boolean),
      location: location === undefined ? null : unfold(location).trim(),
    };
    const boundary = ct.params.get('boundary');
    if (type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
      const childType = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
      return { ...common, partId: null, content: Buffer.alloc(0), subParts: splitMultipart(body, boundary).map((p) => parsePart(p, childType, depth + 1)) };
    }
    if (type.startsWith('multipart/')) common.type = 'text/plain';
    const encoding = unfold(lastHeader(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    return { ...common, partId: nextId(), content: decodeTransfer(body, encoding), subParts: null };
  }

  const root = parsePart(raw, 'text/plain', 0);
  return { headers: root.headers, root };
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
