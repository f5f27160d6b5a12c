import type { SessionContext } from '../context.ts';
import { parseHeloArgument } from '../parser.ts';
import { R, reply } from '../replies.ts';

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
  if (conn.startTls && !session.encrypted) lines.push('STARTTLS');
  // RFC 4954 with our rule: AUTH only on submission and only when encrypted.
  if (options.mode === 'submission' && session.encrypted) lines.push('AUTH PLAIN LOGIN');
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
