import type { SessionContext } from '../context.ts';
import { parseHeloArgument } from '../parser.ts';
import { R, reply } from '../replies.ts';

/** What this session can start right now; EHLO and HELP both say it. */
export function sessionOffers(session: SessionContext): { starttls: boolean; auth: boolean } {
  return {
    starttls: session.conn.startTls !== undefined && !session.encrypted,
    // RFC 4954 with our rule: AUTH only on submission and only when encrypted.
    auth: session.options.mode === 'submission' && session.encrypted && session.account === undefined,
  };
}

/** EHLO: greets and lists the extensions this connection offers right now. */
export function ehlo(session: SessionContext, args: string): void {
  const name = parseHeloArgument(args);
  if (!name) return session.send(R.syntax('EHLO needs a domain or address literal'));
  session.helo = name;
  session.esmtp = true;
  session.transaction = undefined;
  const { options, limits, conn } = session;
  const lines = [
    `${options.hostname} greets ${name} [${conn.info.client.address}]`,
    'PIPELINING',
    `SIZE ${limits.maxMessageSize}`,
    '8BITMIME',
    'CHUNKING',
    'ENHANCEDSTATUSCODES',
  ];
  const offers = sessionOffers(session);
  if (offers.starttls) lines.push('STARTTLS');
  if (offers.auth) lines.push('AUTH PLAIN LOGIN');
  lines.push('SMTPUTF8');
  session.send(reply(250, ...lines));
}

export function helo(session: SessionContext, args: string): void {
  const name = parseHeloArgument(args);
  if (!name) return session.send(R.syntax('HELO needs a domain'));
  session.helo = name;
  session.esmtp = false;
  session.transaction = undefined;
  session.send(R.helo(session.options.hostname, name));
}
