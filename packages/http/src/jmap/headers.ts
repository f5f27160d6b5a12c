import { decodeWords, unfold } from './mime.ts';
import type { RawHeader } from './mime.ts';

/** Parsed forms of header values (RFC 8621 section 4.1.2). */

export interface EmailAddress {
  name: string | null;
  email: string;
}

export type HeaderForm = 'Raw' | 'Text' | 'Addresses' | 'GroupedAddresses' | 'MessageIds' | 'Date' | 'URLs';
const FORMS = new Set<string>(['Raw', 'Text', 'Addresses', 'GroupedAddresses', 'MessageIds', 'Date', 'URLs']);

export interface HeaderProperty {
  name: string;
  form: HeaderForm;
  all: boolean;
}

/** "header:Subject:asText:all" -> { name: 'Subject', form: 'Text', all: true }; undefined when malformed. */
export function parseHeaderProperty(property: string): HeaderProperty | undefined {
  const parts = property.split(':');
  if (parts[0] !== 'header' || parts.length < 2 || parts.length > 4) return undefined;
  const name = parts[1]!;
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return undefined;
  let form: HeaderForm = 'Raw';
  let all = false;
  for (const extra of parts.slice(2)) {
    if (extra === 'all' && !all) all = true;
    else if (extra.startsWith('as') && FORMS.has(extra.slice(2)) && form === 'Raw' && !all) form = extra.slice(2) as HeaderForm;
    else return undefined;
  }
  return { name, form, all };
}

export function asText(raw: string): string {
  return decodeWords(unfold(raw)).trim();
}

function splitOutside(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      current += c;
      if (c === '\\' && i + 1 < text.length) current += text[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') comment++;
    else if (c === ')' && comment > 0) comment--;
    else if (c === '<' && comment === 0) angle++;
    else if (c === '>' && angle > 0 && comment === 0) angle--;
    if (c === separator && !quoted && angle === 0 && comment === 0) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function cleanName(text: string): string | null {
  let name = text.trim();
  if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  name = decodeWords(name).trim();
  return name === '' ? null : name;
}

function parseMailbox(text: string): EmailAddress | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const m = /^(.*)<([^<>]*)>\s*(\(.*\))?$/s.exec(trimmed);
  if (m) return { name: cleanName(m[1]!), email: m[2]!.trim() };
  const comment = /\(([^()]*)\)/.exec(trimmed);
  const email = trimmed.replace(/\([^()]*\)/g, '').trim();
  return { name: comment ? cleanName(comment[1]!) : null, email };
}

export interface AddressGroup {
  name: string | null;
  addresses: EmailAddress[];
}

export function asGroupedAddresses(raw: string): AddressGroup[] {
  const groups: AddressGroup[] = [];
  let loose: EmailAddress[] = [];
  const flush = () => {
    if (loose.length > 0) groups.push({ name: null, addresses: loose });
    loose = [];
  };
  // Groups: "Team: a@x, b@y;" -- split on ";" outside quotes first, then on ":".
  for (const chunk of splitOutside(unfold(raw), ';')) {
    const colon = splitOutside(chunk, ':');
    if (colon.length >= 2) {
      const [before, ...rest] = colon;
      const members = splitOutside(rest.join(':'), ',').map(parseMailbox).filter((a): a is EmailAddress => a !== undefined);
      const leading = splitOutside(before!, ',');
      const groupName = leading.pop()!;
      for (const address of leading.map(parseMailbox)) if (address) loose.push(address);
      flush();
      groups.push({ name: cleanName(groupName), addresses: members });
    } else {
      for (const address of splitOutside(chunk, ',').map(parseMailbox)) if (address) loose.push(address);
    }
  }
  flush();
  return groups;
}

export function asAddresses(raw: string): EmailAddress[] {
  return asGroupedAddresses(raw).flatMap((g) => g.addresses);
}

export function asMessageIds(raw: string): string[] | null {
  const ids = [...unfold(raw).matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  if (ids.length > 0) return ids;
  const bare = unfold(raw).trim();
  return /^[^<>\s]+@[^<>\s]+$/.test(bare) ? [bare] : null;
}

/** RFC 3339 date-time (UTC), or null when the header is not a date. */
export function asDate(raw: string): string | null {
  const ms = Date.parse(unfold(raw).replace(/\([^()]*\)/g, '').trim());
  return Number.isNaN(ms) ? null : utcDate(ms);
}

export function utcDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function asUrls(raw: string): string[] | null {
  const urls = [...unfold(raw).matchAll(/<([^<>]+)>/g)].map((m) => m[1]!.trim());
  return urls.length > 0 ? urls : null;
}

export function headerValue(raw: string, form: HeaderForm): unknown {
  switch (form) {
    case 'Raw':
      return raw;
    case 'Text':
      return asText(raw);
    case 'Addresses':
      return asAddresses(raw);
    case 'GroupedAddresses':
      return asGroupedAddresses(raw);
    case 'MessageIds':
      return asMessageIds(raw);
    case 'Date':
      return asDate(raw);
    case 'URLs':
      return asUrls(raw);
  }
}

/** The value of a header:Name:asForm[:all] property over a part's headers. */
export function headerProperty(headers: readonly RawHeader[], property: HeaderProperty): unknown {
  const lower = property.name.toLowerCase();
  const values = headers.filter((h) => h.name.toLowerCase() === lower).map((h) => headerValue(h.value, property.form));
  if (property.all) return values;
  return values.length === 0 ? null : values[values.length - 1];
}
