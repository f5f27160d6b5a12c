import { IGNORE_SECURITY_EVENTS } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { Maildrop } from '../maildrop.ts';
import { R, verdictReply } from '../replies.ts';

/**
 * What USER/PASS and AUTH PLAIN share: the encryption gate, the admitLogin policy, the password check,
 * the security event for a failure, and opening the maildrop. Passwords are never logged.
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
  if (user === '' || user.length > 320) return failed(session, user, 'empty or overlong user name');
  // The form the accounts compare (trimmed, lower case): " Alice@x" must not get a budget of its own.
  const account = user.trim().toLowerCase();
  if (session.options.admitLogin) {
    const verdict = await session.options.admitLogin(session.conn.info, account);
    // A delay (tarpit) is waited out within half the idle timeout, so the client does not give up on us.
    if (verdict.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, Math.min(verdict.ms, session.limits.idleTimeoutMs / 2)));
    const refusal = verdictReply(verdict);
    if (refusal) {
      session.conn.log.info({ account }, 'pop3: login refused by policy (too many failed logins)');
      return session.send(refusal);
    }
  }
  if (!(await session.options.accounts.verify(account, password))) return failed(session, account, 'bad credentials');
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
  const account = user.slice(0, 320);
  (session.options.events ?? IGNORE_SECURITY_EVENTS).report({
    kind: 'auth-failure',
    reason: 'pop3-auth',
    connection: session.conn.info,
    account,
    detail,
  });
  session.conn.log.info({ account, detail }, 'pop3: authentication failed');
  session.send(R.authFailed);
}
