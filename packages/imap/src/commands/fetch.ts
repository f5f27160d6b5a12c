import type { SessionContext } from '../context.ts';
import { bodyItemBytes, parseFetchItems } from '../fetch-items.ts';
import type { FetchItem } from '../fetch-items.ts';
import { resolveSet } from '../mailbox-view.ts';
import { bodyStructure, envelope, parseStructure } from '../mime-structure.ts';
import type { BodyPart } from '../mime-structure.ts';
import type { Token } from '../parser.ts';
import { formatFlags, formatInternalDate, T } from '../responses.ts';
import type { ImapMessage, SystemFlag } from '../types.ts';
import type { CommandSpec } from './index.ts';

/**
 * RFC 3501 6.4.5 (and 6.4.8 UID FETCH, which always includes UID). Body items other than .PEEK set
 * \Seen on a read-write mailbox; the new FLAGS are then part of the response.
 */
export async function runFetch(session: SessionContext, tag: string, args: readonly Token[], byUid: boolean): Promise<void> {
  const verb = byUid ? 'UID FETCH' : 'FETCH';
  const targets = resolveSet(session, args[0], byUid);
  if (!targets) return session.send(`${tag} BAD Expected ${verb} sequence-set items`);
  const parsed = parseFetchItems(args.slice(1));
  if ('error' in parsed) return session.send(`${tag} BAD ${parsed.error}`);
  const items: FetchItem[] = byUid && !parsed.some((i) => i.kind === 'uid') ? [{ kind: 'uid' }, ...parsed] : parsed;
  const account = session.account!;
  const selected = session.selected!;
  const marksSeen = !selected.readOnly && items.some((i) => i.kind === 'body' && !i.peek);
  const mailbox = session.options.mailbox;
  for (const { seq, message } of targets) {
    let current = message;
    let body: Buffer | undefined;
    let flagsChanged = false;
    try {
      if (items.some(needsContent)) {
        body = await mailbox.read(account, message.uid);
        // Gone meanwhile (another session expunged it): nothing to say until the next NOOP.
        if (!body) continue;
      }
      if (marksSeen && !message.flags.includes('\\Seen')) {
        const flags: SystemFlag[] = [...message.flags, '\\Seen'];
        if (await mailbox.setFlags(account, message.uid, flags)) {
          current = { ...message, flags };
          selected.messages[seq - 1] = current;
          flagsChanged = true;
        }
      }
    } catch (error) {
      session.conn.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'imap: mailbox read failed');
      return session.send(`${tag} ${T.mailboxUnavailable}`);
    }
    const wanted = flagsChanged && !items.some((i) => i.kind === 'flags') ? [...items, { kind: 'flags' } as const] : items;
    // One message at a time: wait for a slow reader before reading the next one.
    await session.writeAndDrain(fetchResponse(seq, current, wanted, body));
  }
  session.send(`${tag} OK ${verb} completed`);
}

/** Items answered from the message's content, which is read from the store for them. */
function needsContent(item: FetchItem): boolean {
  return item.kind === 'body' || item.kind === 'envelope' || item.kind === 'bodystructure' || item.kind === 'bodyshape';
}

/**
 * `* n FETCH (...)` with body sections as literals (they are bytes, not text); the MIME structure is
 * parsed once, when an item needs it.
 */
export function fetchResponse(seq: number, message: ImapMessage, items: readonly FetchItem[], body: Buffer | undefined): Buffer {
  const parts: Buffer[] = [];
  let text = `* ${seq} FETCH (`;
  let parsed: BodyPart | undefined;
  const structure = (): BodyPart => (parsed ??= parseStructure(body!));
  items.forEach((item, i) => {
    if (i > 0) text += ' ';
    switch (item.kind) {
      case 'flags':
        text += `FLAGS ${formatFlags(message.flags)}`;
        break;
      case 'uid':
        text += `UID ${message.uid}`;
        break;
      case 'size':
        text += `RFC822.SIZE ${message.size}`;
        break;
      case 'internaldate':
        text += `INTERNALDATE ${formatInternalDate(message.internalDate)}`;
        break;
      case 'envelope':
        text += `ENVELOPE ${envelope(structure().headers)}`;
        break;
      case 'bodystructure':
        text += `BODYSTRUCTURE ${bodyStructure(structure(), true)}`;
        break;
      case 'bodyshape':
        text += `BODY ${bodyStructure(structure(), false)}`;
        break;
      case 'body': {
        let bytes = bodyItemBytes(body!, item, structure);
        if (!bytes) {
          text += `${item.name} NIL`;
          break;
        }
        if (item.partial) bytes = bytes.subarray(item.partial.start, item.partial.start + item.partial.length);
        text += `${item.name} {${bytes.length}}\r\n`;
        parts.push(Buffer.from(text, 'utf8'), bytes);
        text = '';
        break;
      }
    }
  });
  parts.push(Buffer.from(`${text})\r\n`, 'utf8'));
  return Buffer.concat(parts);
}

export const fetch: CommandSpec = { states: ['selected'], run: (s, tag, args) => runFetch(s, tag, args, false) };
