import { IGNORE_SECURITY_EVENTS } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { T, verdictResponse } from '../responses.ts';

/** Longest delay a policy may impose on a login: well below any client's timeout. */
const MAX_DELAY_MS = 15_000;

/**
 * Shared by LOGIN and AUTHENTICATE PLAIN: the policy hook first (like SMTP AUTH), then the password.
 * Answers the tagged response; passwords are never logged.
 */
export async function verifyLogin(session: SessionContext, tag: string, user: string, password: string): Promise<void> {
  if (user === '' || user.length > 320) return failed(session, tag, user, 'empty or overlong user name');
  // The form the accounts compare (trimmed, lower case): " Alice@x" must not get a budget of its own.
  const account = user.trim().toLowerCase();
  if (session.options.admitLogin) {
    const verdict = await session.options.admitLogin(session.conn.info, account);
    if (verdict.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, Math.min(verdict.ms, MAX_DELAY_MS)));
    const refusal = verdictResponse(verdict);
    if (refusal) {
      session.conn.log.info({ account }, 'imap: login refused by policy');
      return session.send(`${tag} ${refusal}`);
    }
  }
  if (await session.options.accounts.verify(account, password)) {
    session.account = account;
    session.state = 'authenticated';
    session.conn.log.info({ account }, 'imap: authenticated');
    return session.send(`${tag} OK Logged in`);
  }
  return failed(session, tag, account, 'bad credentials');
}

export function failed(session: SessionContext, tag: string, user: string, detail: string): void {
  const account = user.slice(0, 320);
  (session.options.events ?? IGNORE_SECURITY_EVENTS).report({ kind: 'auth-failure', reason: 'imap-auth', connection: session.conn.info, account, detail });
  session.conn.log.info({ account, detail }, 'imap: authentication failed');
  session.send(`${tag} ${T.authFailed}`);
}
