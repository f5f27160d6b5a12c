import { checkLogin, reportLoginFailure } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { R, reply, verdictReply } from '../replies.ts';

/**
 * AUTH PLAIN and LOGIN (RFC 4954, RFC 4616), submission only, only on an encrypted connection
 * (our TLS, STARTTLS, or TLS a trusted proxy terminated). Passwords are never logged.
 */
export async function auth(session: SessionContext, args: string): Promise<void> {
  if (session.options.mode !== 'submission') return session.send(R.notImplemented);
  if (!session.helo || !session.esmtp) return session.send(R.heloFirst);
  if (!session.encrypted) return session.send(R.encryptionRequired);
  if (session.account) return session.send(R.alreadyAuthenticated);
  if (session.transaction) return session.send(reply(503, '5.5.1 AUTH is not allowed during a mail transaction'));
  const [mechanism = '', initial, extra] = args.split(' ');
  if (extra !== undefined) return session.send(R.syntax('AUTH mechanism [initial-response]'));
  switch (mechanism.toUpperCase()) {
    case 'PLAIN':
      if (initial !== undefined) return plain(session, initial);
      session.send(R.authChallenge(''));
      return session.expectLine((line) => plain(session, line));
    case 'LOGIN':
      if (initial !== undefined) return loginUser(session, initial);
      session.send(R.authChallenge(Buffer.from('Username:').toString('base64')));
      return session.expectLine((line) => loginUser(session, line));
    default:
      return session.send(R.authMechanism);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** undefined: cancelled or not base64 (the reply was sent). */
function decode(session: SessionContext, text: string): string | undefined {
  if (text === '*') {
    session.send(R.authCancelled);
    return undefined;
  }
  if (text === '=') return '';
  if (!BASE64.test(text)) {
    session.send(reply(501, '5.5.2 Cannot decode the response'));
    return undefined;
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

async function plain(session: SessionContext, response: string): Promise<void> {
  const decoded = decode(session, response);
  if (decoded === undefined) return;
  const parts = decoded.split('\0');
  if (parts.length !== 3) return session.send(reply(501, '5.5.2 Malformed PLAIN response'));
  const [authzid = '', authcid = '', password = ''] = parts;
  if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return failed(session, authcid, 'authorization identity differs');
  }
  return verify(session, authcid, password);
}

function loginUser(session: SessionContext, response: string): void {
  const user = decode(session, response);
  if (user === undefined) return;
  session.send(R.authChallenge(Buffer.from('Password:').toString('base64')));
  session.expectLine(async (line) => {
    const password = decode(session, line);
    if (password === undefined) return;
    await verify(session, user, password);
  });
}

async function verify(session: SessionContext, user: string, password: string): Promise<void> {
  // A tarpit delay is waited out within half the command timeout, so the client does not give up on us.
  const outcome = await checkLogin(session.conn, session.options, 'smtp', user, password, session.limits.commandTimeoutMs / 2);
  switch (outcome.kind) {
    case 'ok':
      session.account = outcome.account;
      session.conn.log.info({ account: outcome.account }, 'smtp: authenticated');
      return session.send(R.authOk);
    case 'refused':
      session.conn.log.info({ account: outcome.account }, 'smtp: AUTH refused by policy (too many failed logins)');
      return session.send(verdictReply(outcome.verdict, 'auth') ?? R.authFailed);
    case 'failed':
      return session.send(R.authFailed);
  }
}

function failed(session: SessionContext, user: string, detail: string): void {
  reportLoginFailure(session.conn, session.options, 'smtp', user, detail);
  session.send(R.authFailed);
}
