import { INBOX_ID, partBlobId } from './ids.ts';
import { asAddresses, asDate, asMessageIds, asText, headerProperty, parseHeaderProperty, utcDate } from './headers.ts';
import { decodeCharset, lastHeader } from './mime.ts';
import type { MimePart, ParsedMessage, RawHeader } from './mime.ts';
import type { EmailRecord } from './state.ts';

/** Builds RFC 8621 Email objects from a listing record and the parsed message. */

export const DEFAULT_EMAIL_PROPERTIES = [
  'id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt', 'messageId', 'inReplyTo', 'references',
  'sender', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt', 'hasAttachment', 'preview', 'bodyValues',
  'textBody', 'htmlBody', 'attachments',
];
export const DEFAULT_BODY_PROPERTIES = ['partId', 'blobId', 'size', 'name', 'type', 'charset', 'disposition', 'cid', 'language', 'location'];

const METADATA = new Set(['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt']);
const HEADER_CONVENIENCE: Record<string, [string, (raw: string) => unknown]> = {
  messageId: ['message-id', asMessageIds],
  inReplyTo: ['in-reply-to', asMessageIds],
  references: ['references', asMessageIds],
  sender: ['sender', asAddresses],
  from: ['from', asAddresses],
  to: ['to', asAddresses],
  cc: ['cc', asAddresses],
  bcc: ['bcc', asAddresses],
  replyTo: ['reply-to', asAddresses],
  subject: ['subject', asText],
  sentAt: ['date', asDate],
};
const BODY = new Set(['headers', 'bodyStructure', 'textBody', 'htmlBody', 'attachments', 'hasAttachment', 'preview', 'bodyValues']);
const BODY_PART_PROPERTIES = new Set([...DEFAULT_BODY_PROPERTIES, 'headers', 'subParts']);

/** True when the property needs the message itself (not just the listing). */
export function needsMessage(property: string): boolean {
  return !METADATA.has(property);
}

/** undefined when every property is known, else the first unknown one. */
export function unknownEmailProperty(properties: readonly string[]): string | undefined {
  return properties.find((p) => !METADATA.has(p) && !(p in HEADER_CONVENIENCE) && !BODY.has(p) && parseHeaderProperty(p) === undefined);
}

export function unknownBodyProperty(properties: readonly string[]): string | undefined {
  return properties.find((p) => !BODY_PART_PROPERTIES.has(p) && parseHeaderProperty(p) === undefined);
}

export interface BodyOptions {
  bodyProperties: readonly string[];
  fetchTextBodyValues: boolean;
  fetchHTMLBodyValues: boolean;
  fetchAllBodyValues: boolean;
  maxBodyValueBytes: number;
}

const isInlineMedia = (type: string) => /^(image|audio|video)\//.test(type);

/** RFC 8621 section 4.1.4: textBody, htmlBody and attachments from the body structure. */
export function bodyLists(root: MimePart): { textBody: MimePart[]; htmlBody: MimePart[]; attachments: MimePart[] } {
  const textBody: MimePart[] = [];
  const htmlBody: MimePart[] = [];
  const attachments: MimePart[] = [];
  function walk(parts: readonly MimePart[], multipartType: string, inAlternative: boolean, html: MimePart[] | null, text: MimePart[] | null): void {
    const textLength = text ? text.length : -1;
    const htmlLength = html ? html.length : -1;
    parts.forEach((part, i) => {
      const isMultipart = part.subParts !== null;
      const isInline =
        part.disposition !== 'attachment' &&
        (part.type === 'text/plain' || part.type === 'text/html' || isInlineMedia(part.type)) &&
        (i === 0 || (multipartType !== 'related' && (isInlineMedia(part.type) || part.name === null)));
      if (isMultipart) {
        const sub = part.type.split('/')[1] ?? 'mixed';
        walk(part.subParts!, sub, inAlternative || sub === 'alternative', html, text);
      } else if (isInline) {
        if (multipartType === 'alternative') {
          if (part.type === 'text/plain') text?.push(part);
          else if (part.type === 'text/html') html?.push(part);
          else attachments.push(part);
          return;
        } else if (inAlternative) {
          if (part.type === 'text/plain') html = null;
          if (part.type === 'text/html') text = null;
        }
        text?.push(part);
        html?.push(part);
        if ((!text || !html) && isInlineMedia(part.type)) attachments.push(part);
      } else {
        attachments.push(part);
      }
    });
    if (multipartType === 'alternative' && text && html) {
      if (textLength === text.length && htmlLength !== html.length) text.push(...html.slice(htmlLength));
      if (htmlLength === html.length && textLength !== text.length) html.push(...text.slice(textLength));
    }
  }
  walk([root], 'mixed', false, htmlBody, textBody);
  return { textBody, htmlBody, attachments };
}

function partJson(part: MimePart, messageBlobId: string, properties: readonly string[], withSubParts: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of properties) {
    switch (p) {
      case 'partId':
        out.partId = part.partId;
        break;
      case 'blobId':
        out.blobId = part.partId === null ? null : partBlobId(messageBlobId, part.partId);
        break;
      case 'size':
        out.size = part.content.length;
        break;
      case 'headers':
        out.headers = part.headers.map((h) => ({ name: h.name, value: h.value }));
        break;
      case 'name':
      case 'type':
      case 'charset':
      case 'disposition':
      case 'cid':
      case 'language':
      case 'location':
        out[p] = p === 'charset' && !part.type.startsWith('text/') ? null : part[p];
        break;
      case 'subParts':
        break;
      default: {
        const header = parseHeaderProperty(p);
        if (header) out[p] = headerProperty(part.headers, header);
      }
    }
  }
  if (withSubParts || properties.includes('subParts')) {
    out.subParts = part.subParts === null ? null : part.subParts.map((s) => partJson(s, messageBlobId, properties, withSubParts));
  }
  return out;
}

function textOf(part: MimePart): { text: string; problem: boolean } {
  return decodeCharset(part.content, part.charset);
}

function truncate(text: string, maxBytes: number): { value: string; isTruncated: boolean } {
  if (maxBytes <= 0 || Buffer.byteLength(text) <= maxBytes) return { value: text, isTruncated: false };
  let value = Buffer.from(text).subarray(0, maxBytes).toString('utf8');
  if (value.endsWith('\uFFFD')) value = value.slice(0, -1);
  return { value, isTruncated: true };
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

function preview(textBody: readonly MimePart[]): string {
  const part = textBody.find((p) => p.type === 'text/plain' || p.type === 'text/html');
  if (!part) return '';
  const text = textOf(part).text;
  const plain = part.type === 'text/html' ? htmlToText(text) : text;
  return [...plain.replace(/\s+/g, ' ').trim()].slice(0, 256).join('');
}

export function emailJson(
  record: EmailRecord,
  message: ParsedMessage | undefined,
  properties: readonly string[],
  body: BodyOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = { id: record.id };
  const lists = message ? bodyLists(message.root) : undefined;
  const headers: readonly RawHeader[] = message?.headers ?? [];
  for (const p of properties) {
    if (p === 'id') continue;
    switch (p) {
      case 'blobId':
        out.blobId = record.blobId;
        continue;
      case 'threadId':
        out.threadId = record.threadId;
        continue;
      case 'mailboxIds':
        out.mailboxIds = { [INBOX_ID]: true };
        continue;
      case 'keywords':
        out.keywords = Object.fromEntries(record.keywords.map((k) => [k, true]));
        continue;
      case 'size':
        out.size = record.size;
        continue;
      case 'receivedAt':
        out.receivedAt = utcDate(record.receivedAt);
        continue;
    }
    if (!message || !lists) continue;
    const convenience = HEADER_CONVENIENCE[p];
    if (convenience) {
      const raw = lastHeader(headers, convenience[0]);
      out[p] = raw === undefined ? null : convenience[1](raw);
      continue;
    }
    switch (p) {
      case 'headers':
        out.headers = headers.map((h) => ({ name: h.name, value: h.value }));
        break;
      case 'bodyStructure':
        out.bodyStructure = partJson(message.root, record.blobId, body.bodyProperties, true);
        break;
      case 'textBody':
      case 'htmlBody':
      case 'attachments':
        out[p] = lists[p].map((part) => partJson(part, record.blobId, body.bodyProperties, false));
        break;
      case 'hasAttachment':
        out.hasAttachment = lists.attachments.length > 0;
        break;
      case 'preview':
        out.preview = preview(lists.textBody);
        break;
      case 'bodyValues': {
        const wanted = new Map<string, MimePart>();
        const add = (parts: readonly MimePart[]) => {
          for (const part of parts) if (part.partId !== null && part.type.startsWith('text/')) wanted.set(part.partId, part);
        };
        if (body.fetchTextBodyValues || body.fetchAllBodyValues) add(lists.textBody);
        if (body.fetchHTMLBodyValues || body.fetchAllBodyValues) add(lists.htmlBody);
        if (body.fetchAllBodyValues) add(lists.attachments);
        const values: Record<string, unknown> = {};
        for (const [partId, part] of wanted) {
          const { text, problem } = textOf(part);
          const { value, isTruncated } = truncate(text.replace(/\r\n/g, '\n'), body.maxBodyValueBytes);
          values[partId] = { value, isEncodingProblem: problem, isTruncated };
        }
        out.bodyValues = values;
        break;
      }
      default: {
        const header = parseHeaderProperty(p);
        if (header) out[p] = headerProperty(headers, header);
      }
    }
  }
  return out;
}

/** The decoded content of a body part by its partId, for part blob downloads. */
export function findPart(root: MimePart, partId: string): MimePart | undefined {
  if (root.partId === partId) return root;
  for (const sub of root.subParts ?? []) {
    const found = findPart(sub, partId);
    if (found) return found;
  }
  return undefined;
}
