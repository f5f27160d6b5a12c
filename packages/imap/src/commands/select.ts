import type { SessionContext } from '../context.ts';
import { isInbox } from '../mailbox-view.ts';
import { astring } from '../parser.ts';
import type { Token } from '../parser.ts';
import { FLAG_LIST, T } from '../responses.ts';
import type { CommandSpec } from './index.ts';

/**
 * RFC 3501 6.3.1 / 6.3.2. \Recent is not kept (always RECENT 0); the five system flags are permanent,
 * keywords are not (no \* in PERMANENTFLAGS).
 */
async function open(session: SessionContext, tag: string, args: readonly Token[], readOnly: boolean): Promise<void> {
  const name = astring(args[0]);
  if (name === undefined || args.length !== 1) return session.send(`${tag} BAD Expected a mailbox name`);
  // A failed SELECT leaves the client in the authenticated state (RFC 3501 6.3.1).
  session.selected = undefined;
  session.state = 'authenticated';
  if (!isInbox(name)) return session.send(`${tag} ${T.nonexistent}`);
  let state;
  try {
    state = await session.options.mailbox.list(session.account!);
  } catch (error) {
    session.conn.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'imap: mailbox list failed');
    return session.send(`${tag} ${T.mailboxUnavailable}`);
  }
  session.selected = { readOnly, uidValidity: state.uidValidity, uidNext: state.uidNext, messages: [...state.messages] };
  session.state = 'selected';
  session.send(`* FLAGS ${FLAG_LIST}`);
  session.send(`* OK [PERMANENTFLAGS ${readOnly ? '()' : FLAG_LIST}] Flags permitted`);
  session.send(`* ${state.messages.length} EXISTS`);
  session.send('* 0 RECENT');
  const unseen = state.messages.findIndex((m) => !m.flags.includes('\\Seen'));
  if (unseen !== -1) session.send(`* OK [UNSEEN ${unseen + 1}] First unseen message`);
  session.send(`* OK [UIDVALIDITY ${state.uidValidity}] UIDs valid`);
  session.send(`* OK [UIDNEXT ${state.uidNext}] Predicted next UID`);
  session.send(`${tag} OK [${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`);
}

export const select: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => open(s, tag, args, false) };
export const examine: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => open(s, tag, args, true) };
