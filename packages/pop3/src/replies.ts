import type { Verdict } from '@portico/core';

/**
 * Every POP3 status line the session sends, in one place (RFC 1939, with RFC 2449/3206 response codes
 * in brackets where a client can act on them). A reply is the text without the final CRLF.
 */

export interface Reply {
  readonly ok: boolean;
  readonly text: string;
}

export const ok = (text: string): Reply => ({ ok: true, text });
export const err = (text: string): Reply => ({ ok: false, text });

export function formatReply(r: Reply): string {
  return `${r.ok ? '+OK' : '-ERR'}${r.text ? ' ' + r.text : ''}\r\n`;
}

export const R = {
  greeting: (hostname: string) => ok(`${hostname} POP3 Portico ready`),
  bye: (hostname: string) => ok(`${hostname} POP3 Portico signing off`),
  byeDeleted: (hostname: string, n: number) => ok(`${hostname} POP3 Portico signing off (${n} message${n === 1 ? '' : 's'} deleted)`),
  capa: ok('Capability list follows'),
  stls: ok('Begin TLS negotiation'),
  userOk: ok('Send PASS'),
  loggedIn: (n: number, size: number) => ok(`Logged in, maildrop has ${n} message${n === 1 ? '' : 's'} (${size} octets)`),
  stat: (n: number, size: number) => ok(`${n} ${size}`),
  listAll: (n: number, size: number) => ok(`${n} message${n === 1 ? '' : 's'} (${size} octets)`),
  listOne: (n: number, size: number) => ok(`${n} ${size}`),
  uidlAll: ok('Unique-id listing follows'),
  uidlOne: (n: number, uid: string) => ok(`${n} ${uid}`),
  retr: (size: number) => ok(`${size} octets`),
  top: ok('Top of message follows'),
  deleted: (n: number) => ok(`Message ${n} deleted`),
  noop: ok(''),
  rset: (n: number, size: number) => ok(`Maildrop has ${n} message${n === 1 ? '' : 's'} (${size} octets)`),
  mechanisms: ok('Supported SASL mechanisms follow'),

  unknownCommand: err('Unknown command'),
  wrongState: err('Command not valid in this state'),
  lineTooLong: err('Line too long'),
  syntax: (what: string) => err(`Syntax error: ${what}`),
  noSuchMessage: err('No such message'),
  alreadyDeleted: (n: number) => err(`Message ${n} already deleted`),
  messageGone: err('Message is no longer available'),
  userFirst: err('Send USER first'),
  // RFC 2595 4 / RFC 3206 [AUTH]: the client must not retry the same way; the text says what to do.
  plaintextDisallowed: (stlsOffered: boolean) =>
    err(`[AUTH] Plaintext authentication is disallowed on unencrypted connections; ${stlsOffered ? 'use STLS' : 'connect with TLS'}`),
  authFailed: err('[AUTH] Authentication failed'),
  authCancelled: err('Authentication cancelled'),
  authMechanism: err('Unsupported authentication mechanism'),
  badBase64: err('Cannot decode the response'),
  tlsActive: err('Command not permitted when TLS active'),
  tlsNotAvailable: err('TLS not available'),
  maildropUnavailable: err('[SYS/TEMP] Unable to open the maildrop, try again later'),
  removeFailed: err('[SYS/TEMP] Some deleted messages were not removed, try again later'),
  localError: err('[SYS/TEMP] Local error, try again later'),
  // Dovecot closes an idle session with "-ERR Disconnected for inactivity."; ours says it is temporary.
  timeout: err('[SYS/TEMP] Disconnected for inactivity: idle timeout'),
  tooManyErrors: err('Too many errors, closing connection'),
} as const;

/** The `+ ` line of a SASL exchange (RFC 5034 4): base64 challenge, empty for PLAIN. */
export function formatContinuation(base64: string): string {
  return `+ ${base64}\r\n`;
}

/**
 * The one mapping of a refusing Verdict to a POP3 reply: temporary -> `-ERR [SYS/TEMP]`, permanent ->
 * `-ERR [AUTH]` (RFC 3206). Answers undefined for allow and delay (the caller waits out a delay).
 */
export function verdictReply(verdict: Verdict): Reply | undefined {
  if (verdict.kind !== 'refuse') return undefined;
  const text = verdict.message.replace(/[\r\n]+/g, ' ');
  return verdict.temporary ? err(`[SYS/TEMP] ${text}`) : err(`[AUTH] ${text}`);
}
