import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';

/**
 * RFC 2449 CAPA. USER and SASL are listed only where they would be accepted (an encrypted connection,
 * in AUTHORIZATION), STLS only where it can run, so a client never tries a login that is refused.
 */
export function capabilities(session: SessionContext): string[] {
  const authorization = session.state === 'authorization';
  return [
    'TOP',
    'UIDL',
    'RESP-CODES',
    'AUTH-RESP-CODE',
    'PIPELINING',
    ...(authorization && session.encrypted ? ['USER', 'SASL PLAIN'] : []),
    ...(authorization && !session.encrypted && session.conn.startTls ? ['STLS'] : []),
    'IMPLEMENTATION Portico',
  ];
}

export async function capa(session: SessionContext, args: string): Promise<void> {
  if (args.trim() !== '') return session.send(R.syntax('CAPA takes no arguments'));
  await session.sendMultiline(R.capa, capabilities(session));
}
