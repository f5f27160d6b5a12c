import { parseAddressGroups } from '@portico/mime';
import type { AddressGroup, EmailAddress } from '@portico/mime';
import { decodeWords, unfold } from './mime.ts';
import type { RawHeader } from './mime.ts';

export type { AddressGroup, EmailAddress } from '@portico/mime';

/** Parsed forms of header values (RFC 8621 section 4.1.2). */

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

export function asGroupedAddresses(raw: string): AddressGroup[] {
  return parseAddressGroups(raw);
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
