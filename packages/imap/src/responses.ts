import type { Verdict } from '@portico/core';
import type { SystemFlag } from './types.ts';

/**
 * Response text in one place. Response codes in brackets come from RFC 3501 7.1 and RFC 5530
 * (PRIVACYREQUIRED, AUTHENTICATIONFAILED, LIMIT, NONEXISTENT, CANNOT, CLIENTBUG).
 */

export const FLAG_LIST = '(\\Answered \\Flagged \\Deleted \\Seen \\Draft)';

export function formatFlags(flags: readonly SystemFlag[]): string {
  return `(${flags.join(' ')})`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** INTERNALDATE as RFC 3501 date-time, in UTC: "05-Mar-2026 14:03:09 +0000". */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  return `"${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000"`;
}

/** Text of a response line: never a CR or LF from a policy message or a client. */
export function clean(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * The one mapping of a refusing Verdict at LOGIN/AUTHENTICATE to the tagged reply text (after the tag):
 * temporary -> NO [LIMIT], permanent -> NO [AUTHENTICATIONFAILED]. Undefined for allow and delay.
 */
export function verdictResponse(verdict: Verdict): string | undefined {
  if (verdict.kind !== 'refuse') return undefined;
  return `NO [${verdict.temporary ? 'LIMIT' : 'AUTHENTICATIONFAILED'}] ${clean(verdict.message)}`;
}

export const T = {
  authFailed: 'NO [AUTHENTICATIONFAILED] Authentication failed',
  privacyRequired: 'NO [PRIVACYREQUIRED] Use STARTTLS or the TLS port first; passwords are not accepted in clear text',
  wrongState: 'BAD Command not valid in this state',
  nonexistent: 'NO [NONEXISTENT] Only INBOX exists',
  readOnly: 'NO [READ-ONLY] Mailbox was opened with EXAMINE',
  mailboxUnavailable: 'NO [UNAVAILABLE] The mailbox cannot be read right now, try again later',
} as const;
