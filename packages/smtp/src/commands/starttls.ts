import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';

/** RFC 3207. The session discards buffered input and forgets EHLO after the handshake. */
export async function starttls(session: SessionContext, args: string): Promise<void> {
  if (args.trim() !== '') return session.send(R.syntax('STARTTLS takes no parameters'));
  if (session.encrypted) return session.send(R.alreadyTls);
  if (!session.conn.startTls) return session.send(R.tlsNotAvailable);
  if (!session.helo) return session.send(R.heloFirst);
  session.send(R.startTls);
  await session.startTls();
}
