import type { Token } from './parser.ts';

/**
 * FETCH data items (RFC 3501 6.4.5) Portico answers: FLAGS, UID, RFC822.SIZE, INTERNALDATE, RFC822,
 * RFC822.HEADER, RFC822.TEXT, BODY[<section>]<<partial>> and BODY.PEEK[...] with section "", HEADER,
 * TEXT, HEADER.FIELDS (...), HEADER.FIELDS.NOT (...); macro FAST. ENVELOPE, BODYSTRUCTURE, MIME part
 * numbers (and so ALL and FULL, which include them) are not implemented: parseFetchItems says so
 * with `unsupported` set, and FETCH answers NO [CANNOT] (real clients ask for them: not an error).
 */

export type Section =
  | { readonly kind: 'full' }
  | { readonly kind: 'header' }
  | { readonly kind: 'text' }
  | { readonly kind: 'fields'; readonly not: boolean; readonly names: readonly string[] };

export type FetchItem =
  | { readonly kind: 'flags' | 'uid' | 'size' | 'internaldate' }
  /** `name` is how the response names the item, e.g. "BODY[HEADER]<0>" or "RFC822.HEADER". */
  | { readonly kind: 'body'; readonly name: string; readonly section: Section; readonly peek: boolean; readonly partial?: { readonly start: number; readonly length: number } };

const SIMPLE: Record<string, FetchItem[]> = {
  FLAGS: [{ kind: 'flags' }],
  UID: [{ kind: 'uid' }],
  'RFC822.SIZE': [{ kind: 'size' }],
  INTERNALDATE: [{ kind: 'internaldate' }],
  FAST: [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }],
  RFC822: [{ kind: 'body', name: 'RFC822', section: { kind: 'full' }, peek: false }],
  'RFC822.HEADER': [{ kind: 'body', name: 'RFC822.HEADER', section: { kind: 'header' }, peek: true }],
  'RFC822.TEXT': [{ kind: 'body', name: 'RFC822.TEXT', section: { kind: 'text' }, peek: false }],
};

const BODY = /^(BODY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/i;
/** Valid RFC 3501 items Portico does not answer yet. */
const NOT_IMPLEMENTED = new Set(['ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'ALL', 'FULL']);
/** A MIME part section: 1, 1.2, 1.MIME, 2.HEADER, 1.HEADER.FIELDS (...), 3.TEXT. */
const PART = /^[1-9]\d{0,8}(?:\.[1-9]\d{0,8})*(?:\.(?:MIME|HEADER|TEXT|HEADER\.FIELDS(?:\.NOT)? \([^()]*\)))?$/i;

/** Identifies an item for deduplication: the same item asked twice is answered once. */
function itemKey(item: FetchItem): string {
  return item.kind === 'body' ? `body ${item.name} ${item.partial?.length ?? ''}` : item.kind;
}

/** Each item once, in first-asked order; a body item asked with and without .PEEK counts as not peeked. */
export function dedupeFetchItems(items: readonly FetchItem[]): FetchItem[] {
  const out = new Map<string, FetchItem>();
  for (const item of items) {
    const key = itemKey(item);
    const seen = out.get(key);
    if (!seen) out.set(key, item);
    else if (seen.kind === 'body' && item.kind === 'body' && seen.peek && !item.peek) out.set(key, { ...seen, peek: false });
  }
  return [...out.values()];
}

/**
 * The items (each once), or a reason (for the BAD/NO text); `unsupported` marks valid items that are
 * not implemented (NO [CANNOT]) as opposed to syntax errors (BAD).
 */
export function parseFetchItems(args: readonly Token[]): FetchItem[] | { error: string; unsupported?: true } {
  const first = args[0];
  if (!first || args.length > 1) return { error: 'Expected one fetch item or a parenthesised list' };
  const tokens = first.kind === 'list' ? first.items : [first];
  if (tokens.length === 0) return { error: 'Empty fetch item list' };
  const items: FetchItem[] = [];
  let unsupported: string | undefined;
  for (const token of tokens) {
    if (token.kind !== 'atom') return { error: 'Fetch items are atoms' };
    const simple = SIMPLE[token.value.toUpperCase()];
    if (simple) {
      items.push(...simple);
      continue;
    }
    if (NOT_IMPLEMENTED.has(token.value.toUpperCase())) {
      unsupported ??= `Fetch item ${token.value.toUpperCase()} is not supported`;
      continue;
    }
    const m = BODY.exec(token.value);
    if (!m) return { error: `Fetch item ${token.value.slice(0, 40)} is not supported` };
    const section = parseSection(m[2]!);
    if (!section && PART.test(m[2]!)) {
      unsupported ??= `Body section [${m[2]!.slice(0, 40)}] is not supported (no MIME part numbers)`;
      continue;
    }
    if (!section) return { error: `Body section [${m[2]!.slice(0, 40)}] is not supported` };
    const peek = m[1]!.toUpperCase() === 'BODY.PEEK';
    const partial = m[3] === undefined ? undefined : { start: Number(m[3]), length: Number(m[4]) };
    // The response names the section as asked, without .PEEK, and a partial by its start only (RFC 3501 7.4.2).
    const name = `BODY[${m[2]!.toUpperCase()}]${partial ? `<${partial.start}>` : ''}`;
    items.push({ kind: 'body', name, section, peek, ...(partial ? { partial } : {}) });
  }
  if (unsupported) return { error: unsupported, unsupported: true };
  return dedupeFetchItems(items);
}

function parseSection(text: string): Section | undefined {
  const upper = text.toUpperCase();
  if (upper === '') return { kind: 'full' };
  if (upper === 'HEADER') return { kind: 'header' };
  if (upper === 'TEXT') return { kind: 'text' };
  const m = /^HEADER\.FIELDS(\.NOT)? \(([^()]*)\)$/.exec(upper);
  if (!m) return undefined;
  const names = m[2]!.split(' ').filter((n) => n !== '').map((n) => n.replace(/^"(.*)"$/, '$1'));
  if (names.length === 0) return undefined;
  return { kind: 'fields', not: m[1] !== undefined, names };
}

/** The bytes a section names: the header includes its blank line (RFC 3501 6.4.5). */
export function sectionBytes(message: Buffer, section: Section): Buffer {
  if (section.kind === 'full') return message;
  const end = headerEnd(message);
  if (section.kind === 'header') return message.subarray(0, end);
  if (section.kind === 'text') return message.subarray(end);
  const wanted = new Set(section.names.map((n) => n.toLowerCase()));
  const kept = splitFields(message.subarray(0, end)).filter((f) => wanted.has(fieldName(f)) !== section.not);
  return Buffer.concat([...kept, Buffer.from('\r\n')]);
}

function headerEnd(message: Buffer): number {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 4;
  if (lf !== -1) return lf + 2;
  return message.length;
}

/** Header fields with their folded continuation lines, each ending in its line break. */
function splitFields(header: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < header.length; ) {
    const lf = header.indexOf(0x0a, i);
    const next = lf === -1 ? header.length : lf + 1;
    const c = header[next];
    if (next >= header.length || (c !== 0x20 && c !== 0x09)) {
      const field = header.subarray(start, next);
      if (field.toString('latin1').trim() !== '') fields.push(field);
      start = next;
    }
    i = next;
  }
  return fields;
}

function fieldName(field: Buffer): string {
  const colon = field.indexOf(0x3a);
  return colon === -1 ? '' : field.subarray(0, colon).toString('latin1').trim().toLowerCase();
}
