import { checkLogin, reportLoginFailure } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { Maildrop } from '../maildrop.ts';
import { R, verdictReply } from '../replies.ts';

/**
 * What USER/PASS and AUTH PLAIN share: the encryption gate, the login steps every protocol shares
 * (checkLogin in @portico/core), and opening the maildrop. Passwords are never logged.
 */

/**
 * RFC 2595 2.2 and RFC 8314: credentials only on an encrypted connection (our TLS, STLS, or TLS a
 * trusted proxy terminated). Answers true when the refusal was sent.
 */
export function refusePlaintext(session: SessionContext): boolean {
  if (session.encrypted) return false;
  session.send(R.plaintextDisallowed(session.conn.startTls !== undefined));
  return true;
}

export async function login(session: SessionContext, user: string, password: string): Promise<void> {
  // A tarpit delay is waited out within half the idle timeout, so the client does not give up on us.
  const outcome = await checkLogin(session.conn, session.options, 'pop3', user, password, session.limits.idleTimeoutMs / 2);
  if (outcome.kind === 'failed') return session.send(R.authFailed);
  if (outcome.kind === 'refused') {
    session.conn.log.info({ account: outcome.account }, 'pop3: login refused by policy (too many failed logins)');
    return session.send(verdictReply(outcome.verdict) ?? R.authFailed);
  }
  const account = outcome.account;
  let maildrop: Maildrop;
  try {
    maildrop = new Maildrop(await session.options.mailbox.list(account));
  } catch (error) {
    session.conn.log.error({ err: error instanceof Error ? error.message : String(error), account }, 'pop3: cannot open the maildrop');
    return session.send(R.maildropUnavailable, false);
  }
  session.account = account;
  session.maildrop = maildrop;
  session.state = 'transaction';
  const { count, size } = maildrop.stat();
  session.conn.log.info({ account, messages: count }, 'pop3: authenticated');
  session.send(R.loggedIn(count, size));
}

export function failed(session: SessionContext, user: string, detail: string): void {
  reportLoginFailure(session.conn, session.options, 'pop3', user, detail);
  session.send(R.authFailed);
}
