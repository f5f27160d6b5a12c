import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';

/** RFC 2595 4. The session discards pipelined input and starts AUTHORIZATION afresh after the handshake. */
export async function stls(session: SessionContext, args: string): Promise<void> {
  if (args.trim() !== '') return session.send(R.syntax('STLS takes no arguments'));
  if (session.encrypted) return session.send(R.tlsActive);
  if (!session.conn.startTls) return session.send(R.tlsNotAvailable);
  session.send(R.stls);
  await session.startTls();
}
