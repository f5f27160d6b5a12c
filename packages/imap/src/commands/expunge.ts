import type { SessionContext } from '../context.ts';
import { refresh } from '../mailbox-view.ts';
import { T } from '../responses.ts';
import type { CommandSpec } from './index.ts';

/**
 * Removes the \Deleted messages of the selected mailbox, as the store has them now (another
 * session may have changed flags). With `announce` (EXPUNGE), the view is refreshed first (other
 * sessions' expunges and new mail are reported) and `* n EXPUNGE` is sent for each, highest first, so
 * that no sequence number shifts under the client (RFC 3501 7.4.1); without (CLOSE), nothing is sent.
 * False when the store failed (the caller answers NO [UNAVAILABLE]).
 */
export async function expungeDeleted(session: SessionContext, announce: boolean): Promise<boolean> {
  const selected = session.selected!;
  const account = session.account!;
  const mailbox = session.options.mailbox;
  try {
    if (!announce) {
      const state = await mailbox.list(account);
      const uids = state.messages.filter((m) => m.flags.includes('\\Deleted')).map((m) => m.uid);
      if (uids.length > 0) await mailbox.expunge(account, uids);
      return true;
    }
    if (!(await refresh(session))) return false;
    const deleted = selected.messages.flatMap((m, i) => (m.flags.includes('\\Deleted') ? [i] : []));
    if (deleted.length === 0) return true;
    await mailbox.expunge(account, deleted.map((i) => selected.messages[i]!.uid));
    for (const i of deleted.reverse()) {
      selected.messages.splice(i, 1);
      session.send(`* ${i + 1} EXPUNGE`);
    }
    return true;
  } catch (error) {
    session.conn.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'imap: expunge failed');
    return false;
  }
}

export const expunge: CommandSpec = {
  states: ['selected'],
  async run(session, tag) {
    if (session.selected!.readOnly) return session.send(`${tag} ${T.readOnly}`);
    if (!(await expungeDeleted(session, true))) return session.send(`${tag} ${T.mailboxUnavailable}`);
    session.send(`${tag} OK EXPUNGE completed`);
  },
};
