import { checkLogin, reportLoginFailure } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { T, verdictResponse } from '../responses.ts';

/** Longest delay a policy may impose on a login: well below any client's timeout. */
const MAX_DELAY_MS = 15_000;

/**
 * Shared by LOGIN and AUTHENTICATE PLAIN: the login steps every protocol shares (checkLogin), in
 * IMAP's words. Answers the tagged response; passwords are never logged.
 */
export async function verifyLogin(session: SessionContext, tag: string, user: string, password: string): Promise<void> {
  const outcome = await checkLogin(session.conn, session.options, 'imap', user, password, MAX_DELAY_MS);
  switch (outcome.kind) {
    case 'ok':
      session.account = outcome.account;
      session.state = 'authenticated';
      session.conn.log.info({ account: outcome.account }, 'imap: authenticated');
      return session.send(`${tag} OK Logged in`);
    case 'refused':
      session.conn.log.info({ account: outcome.account }, 'imap: login refused by policy');
      return session.send(`${tag} ${verdictResponse(outcome.verdict) ?? T.authFailed}`);
    case 'failed':
      return session.send(`${tag} ${T.authFailed}`);
  }
}

export function failed(session: SessionContext, tag: string, user: string, detail: string): void {
  reportLoginFailure(session.conn, session.options, 'imap', user, detail);
  session.send(`${tag} ${T.authFailed}`);
}
