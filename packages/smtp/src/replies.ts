import type { Verdict } from '@portico/core';

/**
 * Every SMTP reply the session sends, in one place, with its enhanced status code (RFC 3463, RFC 7372).
 * A reply is the text without the final CRLF; multi-line replies are joined by formatReply.
 */

export interface Reply {
  readonly code: number;
  /** One or more lines of text (the enhanced code is part of each line's text). */
  readonly lines: readonly string[];
}

export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines };
}

export function formatReply(r: Reply): string {
  const lines = r.lines.length > 0 ? r.lines : [''];
  return lines.map((line, i) => `${r.code}${i === lines.length - 1 ? ' ' : '-'}${line}`).join('\r\n') + '\r\n';
}

export const isError = (r: Reply) => r.code >= 400;

export const R = {
  greeting: (hostname: string) => reply(220, `${hostname} ESMTP Portico`),
  bye: (hostname: string) => reply(221, `2.0.0 ${hostname} closing connection`),
  ok: reply(250, '2.0.0 OK'),
  senderOk: reply(250, '2.1.0 Sender OK'),
  recipientOk: reply(250, '2.1.5 Recipient OK'),
  resetOk: reply(250, '2.0.0 Reset OK'),
  queued: (id: string) => reply(250, `2.0.0 OK: queued as ${id}`),
  helo: (hostname: string, client: string) => reply(250, `${hostname} greets ${client}`),
  startData: reply(354, 'End data with <CR><LF>.<CR><LF>'),
  startTls: reply(220, '2.0.0 Ready to start TLS'),
  authOk: reply(235, '2.7.0 Authentication successful'),
  authChallenge: (base64: string) => reply(334, base64),
  vrfy: reply(252, '2.5.0 Cannot VRFY user, but will accept message and attempt delivery'),
  help: (extra: string) => reply(214, `2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP${extra}; see RFC 5321`),

  timeout: (hostname: string) => reply(421, `4.4.2 ${hostname} Error: timeout exceeded`),
  tooManyErrors: (hostname: string) => reply(421, `4.7.0 ${hostname} Error: too many errors`),
  tlsNotAvailable: reply(454, '4.7.0 TLS not available'),
  storeFailed: reply(451, '4.3.0 Temporary failure storing the message, try again later'),
  localError: reply(451, '4.3.0 Local error, try again later'),
  tooManyRecipients: reply(452, '4.5.3 Too many recipients'),

  unknownCommand: reply(500, '5.5.1 Unrecognized command'),
  lineTooLong: reply(500, '5.5.2 Line too long'),
  syntax: (what: string) => reply(501, `5.5.4 Syntax error: ${what}`),
  badAddress: reply(501, '5.1.3 Bad address syntax'),
  notImplemented: reply(502, '5.5.1 Command not implemented'),
  heloFirst: reply(503, '5.5.1 Send EHLO or HELO first'),
  mailFirst: reply(503, '5.5.1 Send MAIL first'),
  nestedMail: reply(503, '5.5.1 Sender already given'),
  alreadyAuthenticated: reply(503, '5.5.1 Already authenticated'),
  alreadyTls: reply(503, '5.5.1 TLS already active'),
  noValidRecipients: reply(554, '5.5.1 No valid recipients'),
  authRequired: reply(530, '5.7.0 Authentication required'),
  encryptionRequired: reply(538, '5.7.11 Encryption required for requested authentication mechanism'),
  authFailed: reply(535, '5.7.8 Authentication credentials invalid'),
  authCancelled: reply(501, '5.0.0 Authentication cancelled'),
  authMechanism: reply(504, '5.5.4 Unrecognized authentication mechanism'),
  noSuchUser: reply(550, '5.1.1 No such user here'),
  relayDenied: reply(554, '5.7.1 Relaying denied'),
  relayNotOffered: reply(550, '5.7.1 Relaying to other domains is not offered yet'),
  senderNotOwned: (account: string) => reply(553, `5.7.1 Sender address is not owned by ${account}`),
  sizeExceeded: (max: number) => reply(552, `5.3.4 Message size exceeds fixed maximum message size of ${max} bytes`),
  badParameter: (name: string) => reply(555, `5.5.4 Unsupported parameter ${name}`),
  utf8NotDeclared: reply(553, '5.6.7 Non-ASCII address requires the SMTPUTF8 parameter'),
  bareLineEnding: reply(550, '5.6.0 Bare CR or LF in message content: lines must end in CRLF (RFC 5321 2.3.8)'),
} as const;

/** Enhanced codes for the reason codes policies give (RFC 7372 for mail authentication). */
const REASON_CODES: Readonly<Record<string, { permanent: string; temporary: string }>> = {
  'spf-fail': { permanent: '5.7.23', temporary: '4.7.24' },
  'spf-temperror': { permanent: '5.7.24', temporary: '4.7.24' },
  'dkim-fail': { permanent: '5.7.20', temporary: '4.7.5' },
  'dkim-temperror': { permanent: '5.7.5', temporary: '4.7.5' },
  'dmarc-policy': { permanent: '5.7.1', temporary: '4.7.1' },
  'dmarc-temperror': { permanent: '5.7.1', temporary: '4.7.1' },
};

/**
 * The one mapping of a refusing Verdict to an SMTP reply: temporary -> 451, permanent -> 550
 * (at AUTH: 454 and 535).
 * Answers undefined for allow and delay (the caller waits out a delay, then goes on).
 */
export function verdictReply(verdict: Verdict, stage: 'transaction' | 'auth' = 'transaction'): Reply | undefined {
  if (verdict.kind !== 'refuse') return undefined;
  const codes = REASON_CODES[verdict.reason] ?? { permanent: '5.7.1', temporary: '4.7.1' };
  const text = verdict.message.replace(/[\r\n]+/g, ' ');
  // RFC 4954 section 6: a temporary AUTH failure is 454 4.7.0, a refusal 535 5.7.8.
  if (stage === 'auth') return verdict.temporary ? reply(454, `4.7.0 ${text}`) : reply(535, `5.7.8 ${text}`);
  return verdict.temporary ? reply(451, `${codes.temporary} ${text}`) : reply(550, `${codes.permanent} ${text}`);
}
