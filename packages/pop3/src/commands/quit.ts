import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';

/**
 * RFC 1939 6: QUIT in TRANSACTION enters UPDATE and removes the messages marked by DELE. A message
 * another session removed already counts as removed. If a removal fails, the reply says so
 * (-ERR [SYS/TEMP]) and the client can delete it next time.
 */
export async function quit(session: SessionContext): Promise<void> {
  const { account, maildrop } = session;
  if (session.state !== 'transaction' || !account || !maildrop) return session.close('quit', R.bye(session.options.hostname));
  const marked = maildrop.marked();
  let failed = 0;
  for (const entry of marked) {
    try {
      await session.options.mailbox.remove(account, entry.id);
    } catch (error) {
      failed++;
      session.conn.log.error({ err: error instanceof Error ? error.message : String(error), account }, 'pop3: removing a message failed');
    }
  }
  session.conn.log.info({ account, deleted: marked.length - failed, failed }, 'pop3: update');
  session.close('quit', failed > 0 ? R.removeFailed : R.byeDeleted(session.options.hostname, marked.length));
}
