import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';
import { sessionOffers } from './helo.ts';

export function rset(session: SessionContext, args: string): void {
  if (args.trim() !== '') return session.send(R.syntax('RSET takes no parameters'));
  session.transaction = undefined;
  session.send(R.resetOk);
}

export function noop(session: SessionContext): void {
  session.send(R.ok);
}

export function quit(session: SessionContext): void {
  session.close('quit', R.bye(session.options.hostname));
}

/** RFC 5321 3.5.3: 252, we never confirm or deny addresses (no harvesting). */
export function vrfy(session: SessionContext, args: string): void {
  if (args.trim() === '') return session.send(R.syntax('VRFY needs an argument'));
  session.send(R.vrfy);
}

/** Lists the commands, with STARTTLS and AUTH exactly when EHLO would offer them. */
export function help(session: SessionContext): void {
  const offers = sessionOffers(session);
  session.send(R.help(`${offers.starttls ? ' STARTTLS' : ''}${offers.auth ? ' AUTH' : ''}`));
}

/** RFC 5321 4.2.4: a known command we do not offer (mailing-list expansion) is 502, not 500. */
export function expn(session: SessionContext): void {
  session.send(R.notImplemented);
}
