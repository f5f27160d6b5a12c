import { findHeaderEnd, lastHeader, multipartRanges, parseAddressGroups, parseHeaderBlock, parseStructured, unfold } from '@portico/mime';
import type { RawHeader } from '@portico/mime';

/**
 * The MIME structure of a message as IMAP needs it (RFC 3501 6.4.5, 7.4.2): every part with its byte
 * range in the message (for BODY[1.2], BODY[1.MIME]), its fields for BODYSTRUCTURE, and the enclosed
 * message of message/rfc822 parts. Never throws: malformed input gives text/plain leaves.
 */
export interface BodyPart {
  /** Offsets into the message: the part's MIME header starts at `start`, its body at `bodyStart`. */
  readonly start: number;
  readonly bodyStart: number;
  readonly end: number;
  readonly headers: readonly RawHeader[];
  /** As written (case kept); text/plain when absent or malformed. */
  readonly type: string;
  readonly subtype: string;
  readonly params: readonly (readonly [string, string])[];
  readonly id: string | null;
  readonly description: string | null;
  readonly encoding: string;
  readonly md5: string | null;
  readonly disposition: { readonly value: string; readonly params: readonly (readonly [string, string])[] } | null;
  readonly language: readonly string[] | null;
  readonly location: string | null;
  /** Lines of the body: text/* and message/rfc822 only. */
  readonly lines: number;
  /** Children of a multipart part. */
  readonly parts?: readonly BodyPart[];
  /** The enclosed message of a message/rfc822 part (its root part). */
  readonly message?: BodyPart;
}

const MAX_DEPTH = 20;
const TOKEN = /^[A-Za-z0-9!#$&^_.+-]+$/;

export function parseStructure(raw: Buffer): BodyPart {
  return parsePart(raw, 0, raw.length, 'text/plain', 0);
}

function header(headers: readonly RawHeader[], name: string): string | null {
  const value = lastHeader(headers, name);
  if (value === undefined) return null;
  const text = unfold(value).replace(/[\r\n]/g, '').trim();
  return text === '' ? null : text;
}

function paramList(params: Map<string, string>): [string, string][] {
  return [...params].filter(([key]) => key !== '');
}

function countLines(bytes: Buffer): number {
  if (bytes.length === 0) return 0;
  let lines = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) lines++;
  return bytes[bytes.length - 1] === 0x0a ? lines : lines + 1;
}

function parsePart(raw: Buffer, start: number, end: number, defaultType: string, depth: number): BodyPart {
  const bytes = raw.subarray(start, end);
  const { headEnd, bodyStart: relativeBody } = findHeaderEnd(bytes);
  const bodyStart = start + relativeBody;
  const headers = parseHeaderBlock(bytes.subarray(0, headEnd).toString('utf8'));
  const contentType = lastHeader(headers, 'content-type');
  const ct = parseStructured(contentType ?? defaultType);
  const slash = /^([^/\s]+)\s*\/\s*([^/\s]+)$/.exec(ct.value);
  let [type, subtype] = slash && TOKEN.test(slash[1]!) && TOKEN.test(slash[2]!) ? [slash[1]!, slash[2]!] : ['text', 'plain'];
  let params = paramList(ct.params);
  if (!slash && contentType !== undefined) params = [];
  if (type.toLowerCase() === 'text' && !params.some(([k]) => k === 'charset') && contentType === undefined) params.unshift(['charset', 'us-ascii']);
  const cd = lastHeader(headers, 'content-disposition');
  const dsp = cd === undefined ? undefined : parseStructured(cd);
  const language = header(headers, 'content-language');
  const common = {
    start,
    bodyStart,
    end,
    headers,
    params,
    id: header(headers, 'content-id'),
    description: header(headers, 'content-description'),
    encoding: header(headers, 'content-transfer-encoding') ?? '7BIT',
    md5: header(headers, 'content-md5'),
    disposition: dsp && TOKEN.test(dsp.value) ? { value: dsp.value, params: paramList(dsp.params) } : null,
    language: language === null ? null : language.split(',').map((l) => l.trim()).filter((l) => l !== ''),
    location: header(headers, 'content-location'),
  };
  const kind = `${type}/${subtype}`.toLowerCase();
  const boundary = ct.params.get('boundary');
  if (type.toLowerCase() === 'multipart' && boundary && depth < MAX_DEPTH) {
    const body = raw.subarray(bodyStart, end);
    const childType = kind === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    const parts = multipartRanges(body, boundary).map((r) => parsePart(raw, bodyStart + r.start, bodyStart + r.end, childType, depth + 1));
    // RFC 3501: a multipart has at least one part; without any, treat the body as one empty text part.
    if (parts.length > 0) return { ...common, type, subtype, lines: 0, parts };
  }
  if (type.toLowerCase() === 'multipart') {
    [type, subtype] = ['text', 'plain'];
    common.params = [['charset', 'us-ascii']];
  }
  const lines = type.toLowerCase() === 'text' || kind === 'message/rfc822' ? countLines(raw.subarray(bodyStart, end)) : 0;
  if (kind === 'message/rfc822' && depth < MAX_DEPTH) {
    return { ...common, type, subtype, lines, message: parsePart(raw, bodyStart, end, 'text/plain', depth + 1) };
  }
  return { ...common, type, subtype, lines };
}

/**
 * The part a section's numbers name (RFC 3501 6.4.5): in a multipart, n is its n-th child; a
 * non-multipart has only part 1 (itself); after a message/rfc822 part the numbers go on in the
 * enclosed message. Undefined when there is no such part.
 */
export function findPart(root: BodyPart, path: readonly number[]): BodyPart | undefined {
  let node: BodyPart | undefined = root;
  for (let i = 0; i < path.length && node; i++) {
    // The top of the message, or of an enclosed one, may be a single part: its part 1 is itself.
    const top = i === 0 || node.message !== undefined;
    if (i > 0 && node.message) node = node.message;
    if (node.parts) node = node.parts[path[i]! - 1];
    else if (path[i] !== 1 || !top) return undefined;
  }
  return node;
}

// --- Response syntax (RFC 3501 9) ---

/** An IMAP string: quoted when it can be, a literal when it holds CR, LF, NUL, 8-bit, or is long. */
export function imapString(value: string): string {
  if (/^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) && value.length < 1024) return `"${value.replace(/[\\"]/g, '\\$&')}"`;
  return `{${Buffer.byteLength(value, 'utf8')}}\r\n${value}`;
}

export function nstring(value: string | null | undefined): string {
  return value === null || value === undefined ? 'NIL' : imapString(value);
}

function paramsText(params: readonly (readonly [string, string])[]): string {
  return params.length === 0 ? 'NIL' : `(${params.map(([k, v]) => `${imapString(k)} ${imapString(v)}`).join(' ')})`;
}

function addressList(raw: string | null): string {
  if (raw === null) return 'NIL';
  const out: string[] = [];
  for (const group of parseAddressGroups(raw, false)) {
    if (group.name !== null) out.push(`(NIL NIL ${imapString(group.name)} NIL)`);
    for (const address of group.addresses) {
      const email = address.email.trim();
      if (email === '') continue;
      const at = email.lastIndexOf('@');
      // A host of NIL would mark a group: an address without a domain gets a placeholder, as Dovecot does.
      const [mailbox, host] = at === -1 ? [email, '.MISSING-HOST-NAME.'] : [email.slice(0, at), email.slice(at + 1)];
      out.push(`(${nstring(address.name)} NIL ${imapString(mailbox)} ${imapString(host)})`);
    }
    if (group.name !== null) out.push('(NIL NIL NIL NIL)');
  }
  return out.length === 0 ? 'NIL' : `(${out.join('')})`;
}

/** ENVELOPE (RFC 3501 7.4.2) of a message's header: values raw (encoded words kept), unfolded. */
export function envelope(headers: readonly RawHeader[]): string {
  const from = header(headers, 'from');
  const sender = header(headers, 'sender') ?? from;
  const replyTo = header(headers, 'reply-to') ?? from;
  return `(${[
    nstring(header(headers, 'date')),
    nstring(header(headers, 'subject')),
    addressList(from),
    addressList(sender),
    addressList(replyTo),
    addressList(header(headers, 'to')),
    addressList(header(headers, 'cc')),
    addressList(header(headers, 'bcc')),
    nstring(header(headers, 'in-reply-to')),
    nstring(header(headers, 'message-id')),
  ].join(' ')})`;
}

/** BODYSTRUCTURE (`extensible`) or BODY (RFC 3501 7.4.2) of a part. */
export function bodyStructure(part: BodyPart, extensible: boolean): string {
  const dsp = part.disposition ? `(${imapString(part.disposition.value)} ${paramsText(part.disposition.params)})` : 'NIL';
  const lang = part.language === null || part.language.length === 0 ? 'NIL' : part.language.length === 1 ? imapString(part.language[0]!) : `(${part.language.map(imapString).join(' ')})`;
  const tail = `${dsp} ${lang} ${nstring(part.location)}`;
  if (part.parts) {
    const children = part.parts.map((p) => bodyStructure(p, extensible)).join('');
    return `(${children} ${imapString(part.subtype)}${extensible ? ` ${paramsText(part.params)} ${tail}` : ''})`;
  }
  const fields = [imapString(part.type), imapString(part.subtype), paramsText(part.params), nstring(part.id), nstring(part.description), imapString(part.encoding), String(part.end - part.bodyStart)];
  if (part.message) fields.push(envelope(part.message.headers), bodyStructure(part.message, extensible), String(part.lines));
  else if (part.type.toLowerCase() === 'text') fields.push(String(part.lines));
  if (extensible) fields.push(nstring(part.md5), tail);
  return `(${fields.join(' ')})`;
}
