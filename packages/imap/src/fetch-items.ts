import { findHeaderEnd } from '@portico/mime';
import { findPart } from './mime-structure.ts';
import type { BodyPart } from './mime-structure.ts';
import type { Token } from './parser.ts';

/**
 * FETCH data items (RFC 3501 6.4.5): FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE, BODYSTRUCTURE,
 * BODY, RFC822, RFC822.HEADER, RFC822.TEXT, BODY[<section>]<<partial>> and BODY.PEEK[...] with
 * sections "", HEADER, TEXT, HEADER.FIELDS (...), HEADER.FIELDS.NOT (...), each also after MIME part
 * numbers (1.2.HEADER, for message/rfc822 parts), part numbers alone (1.2) and n.MIME; macros ALL,
 * FAST, FULL.
 */

export type Section =
  | { readonly kind: 'full' }
  | { readonly kind: 'header' }
  | { readonly kind: 'text' }
  | { readonly kind: 'fields'; readonly not: boolean; readonly names: readonly string[] }
  /** The MIME header of a numbered part (only after part numbers). */
  | { readonly kind: 'mime' };

export type FetchItem =
  | { readonly kind: 'flags' | 'uid' | 'size' | 'internaldate' | 'envelope' | 'bodystructure' | 'bodyshape' }
  /**
   * `name` is how the response names the item, e.g. "BODY[HEADER]<0>" or "RFC822.HEADER"; `part` the
   * MIME part numbers before the section (empty: the whole message).
   */
  | {
      readonly kind: 'body';
      readonly name: string;
      readonly part: readonly number[];
      readonly section: Section;
      readonly peek: boolean;
      readonly partial?: { readonly start: number; readonly length: number };
    };

const SIMPLE: Record<string, FetchItem[]> = {
  FLAGS: [{ kind: 'flags' }],
  UID: [{ kind: 'uid' }],
  'RFC822.SIZE': [{ kind: 'size' }],
  INTERNALDATE: [{ kind: 'internaldate' }],
  ENVELOPE: [{ kind: 'envelope' }],
  BODYSTRUCTURE: [{ kind: 'bodystructure' }],
  BODY: [{ kind: 'bodyshape' }],
  FAST: [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }],
  ALL: [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }, { kind: 'envelope' }],
  FULL: [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }, { kind: 'envelope' }, { kind: 'bodyshape' }],
  RFC822: [{ kind: 'body', name: 'RFC822', part: [], section: { kind: 'full' }, peek: false }],
  'RFC822.HEADER': [{ kind: 'body', name: 'RFC822.HEADER', part: [], section: { kind: 'header' }, peek: true }],
  'RFC822.TEXT': [{ kind: 'body', name: 'RFC822.TEXT', part: [], section: { kind: 'text' }, peek: false }],
};

const BODY = /^(BODY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/i;
/** Part numbers before a section: "1.2." of "1.2.MIME", or all of "1.2". */
const PART = /^((?:[1-9]\d{0,8}\.)*[1-9]\d{0,8})(?:\.(.*))?$/s;

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

/** The items (each once), or a reason (for the BAD text). */
export function parseFetchItems(args: readonly Token[]): FetchItem[] | { error: string } {
  const first = args[0];
  if (!first || args.length > 1) return { error: 'Expected one fetch item or a parenthesised list' };
  const tokens = first.kind === 'list' ? first.items : [first];
  if (tokens.length === 0) return { error: 'Empty fetch item list' };
  const items: FetchItem[] = [];
  for (const token of tokens) {
    if (token.kind !== 'atom') return { error: 'Fetch items are atoms' };
    const simple = SIMPLE[token.value.toUpperCase()];
    if (simple) {
      items.push(...simple);
      continue;
    }
    const m = BODY.exec(token.value);
    if (!m) return { error: `Fetch item ${token.value.slice(0, 40)} is not supported` };
    const numbered = PART.exec(m[2]!);
    const part = numbered ? numbered[1]!.split('.').map(Number) : [];
    const rest = numbered ? numbered[2] : m[2]!;
    let section: Section | undefined;
    if (!numbered) section = parseSection(m[2]!);
    else if (rest === undefined) section = { kind: 'full' };
    else if (rest.toUpperCase() === 'MIME') section = { kind: 'mime' };
    else if (rest !== '') section = parseSection(rest);
    if (!section) return { error: `Body section [${m[2]!.slice(0, 40)}] is not supported` };
    const peek = m[1]!.toUpperCase() === 'BODY.PEEK';
    const partial = m[3] === undefined ? undefined : { start: Number(m[3]), length: Number(m[4]) };
    // The response names the section as asked, without .PEEK, and a partial by its start only (RFC 3501 7.4.2).
    const name = `BODY[${m[2]!.toUpperCase()}]${partial ? `<${partial.start}>` : ''}`;
    items.push({ kind: 'body', name, part, section, peek, ...(partial ? { partial } : {}) });
  }
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

/**
 * The bytes a body item names, or undefined when its part does not exist (the response says NIL).
 * Part numbers select a part's body (n), its MIME header (n.MIME), or for a message/rfc822 part
 * the enclosed message's header and text (n.HEADER, n.TEXT, n.HEADER.FIELDS); on other parts those
 * are empty. Headers include their blank line (RFC 3501 6.4.5).
 */
export function bodyItemBytes(message: Buffer, item: Extract<FetchItem, { kind: 'body' }>, structure: () => BodyPart): Buffer | undefined {
  if (item.part.length === 0) return sectionBytes(message, item.section);
  const part = findPart(structure(), item.part);
  if (!part) return undefined;
  if (item.section.kind === 'full') return message.subarray(part.bodyStart, part.end);
  if (item.section.kind === 'mime') return message.subarray(part.start, part.bodyStart);
  if (!part.message) return Buffer.alloc(0);
  return sectionBytes(message.subarray(part.message.start, part.message.end), item.section);
}

/** The bytes a section of a whole message names: the header includes its blank line (RFC 3501 6.4.5). */
export function sectionBytes(message: Buffer, section: Section): Buffer {
  if (section.kind === 'full') return message;
  const end = findHeaderEnd(message).bodyStart;
  if (section.kind === 'header' || section.kind === 'mime') return message.subarray(0, end);
  if (section.kind === 'text') return message.subarray(end);
  const wanted = new Set(section.names.map((n) => n.toLowerCase()));
  const kept = splitFields(message.subarray(0, end)).filter((f) => wanted.has(fieldName(f)) !== section.not);
  return Buffer.concat([...kept, Buffer.from('\r\n')]);
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
