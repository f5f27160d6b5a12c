import type { AcceptedConnection } from './handoff.ts';
import type { ConnectionInfo } from './connection.ts';
import type { Verdict } from './verdict.ts';
import { IGNORE_SECURITY_EVENTS } from './security-event.ts';
import type { SecurityEventSink } from './security-event.ts';

/** What a protocol knows about accounts and login policy (its options). */
export interface LoginPolicy {
  readonly accounts: { verify(account: string, password: string): Promise<boolean> };
  /** Asked before the password is checked (failed-login limits per client IP and per account). */
  readonly admitLogin?: (info: ConnectionInfo, account: string) => Promise<Verdict>;
  readonly events?: SecurityEventSink;
}

/**
 * How a login ended; the protocol answers it in its own words. `failed` is already reported and
 * logged; `refused` carries the policy's refusal for the protocol's verdict mapping.
 */
export type LoginOutcome =
  | { readonly kind: 'ok'; readonly account: string }
  | { readonly kind: 'refused'; readonly account: string; readonly verdict: Verdict & { kind: 'refuse' } }
  | { readonly kind: 'failed' };

/** Longest user name taken (an RFC 5321 address); longer ones fail without asking anyone. */
const MAX_USER_LENGTH = 320;

/**
 * The login steps SMTP AUTH, POP3 and IMAP share. The account is compared in one form (trimmed,
 * lower case), so " Alice@x" gets no failed-login budget of its own; the policy is asked before the
 * password and a delay it asks for is waited out (at most `maxDelayMs`, so that the client does not
 * give up); a failure is reported and logged. Passwords are never logged.
 */
export async function checkLogin(
  conn: AcceptedConnection,
  policy: LoginPolicy,
  protocol: string,
  user: string,
  password: string,
  maxDelayMs: number,
): Promise<LoginOutcome> {
  if (user === '' || user.length > MAX_USER_LENGTH) return reportLoginFailure(conn, policy, protocol, user, 'empty or overlong user name');
  const account = user.trim().toLowerCase();
  if (policy.admitLogin) {
    const verdict = await policy.admitLogin(conn.info, account);
    if (verdict.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, Math.min(verdict.ms, maxDelayMs)));
    if (verdict.kind === 'refuse') return { kind: 'refused', account, verdict };
  }
  if (await policy.accounts.verify(account, password)) return { kind: 'ok', account };
  return reportLoginFailure(conn, policy, protocol, account, 'bad credentials');
}

/**
 * A failed login: a security event of kind auth-failure (auto-ban counts these, against the client,
 * never a trusted proxy) and one log line with the account and what failed.
 */
export function reportLoginFailure(
  conn: AcceptedConnection,
  policy: Pick<LoginPolicy, 'events'>,
  protocol: string,
  user: string,
  detail: string,
): { readonly kind: 'failed' } {
  const account = user.slice(0, MAX_USER_LENGTH);
  (policy.events ?? IGNORE_SECURITY_EVENTS).report({ kind: 'auth-failure', reason: `${protocol}-auth`, connection: conn.info, account, detail });
  conn.log.info({ account, detail }, `${protocol}: authentication failed`);
  return { kind: 'failed' };
}
