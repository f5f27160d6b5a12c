/**
 * The JMAP view of a message (on @portico/mime's building blocks), enough for Email/get: headers, single-part
 * and nested multipart bodies, base64 and quoted-printable, charsets through TextDecoder.
 * message/rfc822 parts are leaves (their blob is the enclosed message), as RFC 8621 wants.
 */

import { decodeQuotedPrintable, findHeaderEnd, lastHeader, multipartRanges, parseHeaderBlock, parseStructured, unfold, decodeWords } from '@portico/mime';
import type { RawHeader } from '@portico/mime';

export { decodeCharset, decodeWords, lastHeader, parseStructured, unfold } from '@portico/mime';
export type { RawHeader } from '@portico/mime';

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
  const { headEnd, bodyStart } = findHeaderEnd(raw);
  return { head: raw.subarray(0, headEnd).toString('utf8'), body: raw.subarray(bodyStart) };
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
  return multipartRanges(body, boundary).map(({ start, end }) => body.subarray(start, end));
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
