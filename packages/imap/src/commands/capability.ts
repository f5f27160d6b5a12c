import type { SessionContext } from '../context.ts';
import type { CommandSpec } from './index.ts';

/**
 * RFC 3501 6.1.1. Passwords only travel encrypted: before TLS the list says LOGINDISABLED and offers
 * no AUTH= mechanism (RFC 3501 6.2.3, RFC 2595 3.2), and STARTTLS when the listener can do it.
 */
export function capabilities(session: Pick<SessionContext, 'conn' | 'encrypted'>): string[] {
  const caps = ['IMAP4rev1'];
  if (!session.encrypted && session.conn.startTls) caps.push('STARTTLS');
  caps.push(...(session.encrypted ? ['AUTH=PLAIN'] : ['LOGINDISABLED']));
  caps.push('UNSELECT');
  return caps;
}

export const capability: CommandSpec = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  run(session, tag, args) {
    if (args.length > 0) return session.send(`${tag} BAD CAPABILITY takes no arguments`);
    session.send(`* CAPABILITY ${capabilities(session).join(' ')}`);
    session.send(`${tag} OK CAPABILITY completed`);
  },
};
