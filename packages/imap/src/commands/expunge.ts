import type { SessionContext } from '../context.ts';
import { T } from '../responses.ts';
import type { CommandSpec } from './index.ts';

/**
 * Removes the \Deleted messages of the selected mailbox. With `announce`, sends `* n EXPUNGE` for
 * each, highest first, so that no sequence number shifts under the client (RFC 3501 7.4.1).
 */
export async function expungeDeleted(session: SessionContext, announce: boolean): Promise<void> {
  const selected = session.selected!;
  const deleted = selected.messages.flatMap((m, i) => (m.flags.includes('\\Deleted') ? [i] : []));
  if (deleted.length === 0) return;
  await session.options.mailbox.expunge(session.account!, deleted.map((i) => selected.messages[i]!.uid));
  for (const i of deleted.reverse()) {
    selected.messages.splice(i, 1);
    if (announce) session.send(`* ${i + 1} EXPUNGE`);
  }
}

export const expunge: CommandSpec = {
  states: ['selected'],
  async run(session, tag) {
    if (session.selected!.readOnly) return session.send(`${tag} ${T.readOnly}`);
    await expungeDeleted(session, true);
    session.send(`${tag} OK EXPUNGE completed`);
  },
};
