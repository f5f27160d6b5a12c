import type { SessionContext } from './context.ts';
import type { Token } from './parser.ts';
import { inSequenceSet, parseSequenceSet } from './sequence.ts';
import type { ImapMessage } from './types.ts';

/** Mailbox names: INBOX only, case-insensitively (RFC 3501 5.1). */
export function isInbox(name: string | undefined): boolean {
  return name !== undefined && name.toUpperCase() === 'INBOX';
}

/**
 * Brings the selected view up to date with the store: announces expunges by other sessions
 * (highest sequence number first, so no number shifts under the client) and new mail (EXISTS).
 * False when the store cannot be read.
 */
export async function refresh(session: SessionContext): Promise<boolean> {
  const selected = session.selected;
  if (!selected || !session.account) return true;
  let state;
  try {
    state = await session.options.mailbox.list(session.account);
  } catch (error) {
    session.conn.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'imap: mailbox list failed');
    return false;
  }
  const present = new Map(state.messages.map((m) => [m.uid, m]));
  for (let i = selected.messages.length - 1; i >= 0; i--) {
    if (!present.has(selected.messages[i]!.uid)) {
      selected.messages.splice(i, 1);
      session.send(`* ${i + 1} EXPUNGE`);
    }
  }
  const last = selected.messages.at(-1)?.uid ?? 0;
  const before = selected.messages.length;
  selected.messages = selected.messages.map((m) => present.get(m.uid) ?? m);
  for (const m of state.messages) if (m.uid > last) selected.messages.push(m);
  selected.uidNext = Math.max(selected.uidNext, state.uidNext);
  if (selected.messages.length !== before) session.send(`* ${selected.messages.length} EXISTS`);
  return true;
}

/**
 * The messages a sequence set names, with their sequence numbers, in mailbox order: by sequence
 * number, or by UID for the UID commands. Numbers that name no message are left out. Undefined when
 * the set does not parse.
 */
export function resolveSet(session: SessionContext, token: Token | undefined, byUid: boolean): { seq: number; message: ImapMessage }[] | undefined {
  const messages = session.selected?.messages ?? [];
  if (!token || token.kind !== 'atom') return undefined;
  const star = byUid ? (messages.at(-1)?.uid ?? 0) : messages.length;
  const ranges = parseSequenceSet(token.value, star);
  if (!ranges) return undefined;
  const out: { seq: number; message: ImapMessage }[] = [];
  messages.forEach((message, i) => {
    if (inSequenceSet(ranges, byUid ? message.uid : i + 1)) out.push({ seq: i + 1, message });
  });
  return out;
}
