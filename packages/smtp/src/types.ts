import type { ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';

/**
 * What an SMTP session needs from the rest of the server, as interfaces: the server wires the real
 * store (@portico/store) and mail authentication (@portico/mailauth); tests wire fakes.
 */

export type SmtpMode = 'smtp' | 'submission';

/** `[mail.accounts]`: who exists and whose password is right. */
export interface SmtpAccounts {
  exists(address: string): boolean | Promise<boolean>;
  /** Must take about as long for unknown addresses as for known ones. */
  verify(address: string, password: string): Promise<boolean>;
}

/** Stores one message in the recipient's mailbox before the 250 reply; throws when it is not on disk. */
export type SmtpDeliver = (address: string, message: Buffer) => Promise<string>;

export interface SpfQuery {
  /** The real client address (ConnectionInfo.client), never the proxy's. */
  readonly ip: string;
  readonly helo: string;
  /** MAIL FROM address, '' for the null reverse-path. */
  readonly sender: string;
}

/** SPF/DKIM/DMARC (the server passes a @portico/mailauth MailAuthenticator). Used in `smtp` mode only. */
export interface SmtpMailAuth {
  checkSpf(query: SpfQuery): Promise<{ readonly result: string; readonly verdict: Verdict }>;
  authenticate(query: SpfQuery & { readonly message: Buffer }): Promise<{ readonly header: string; readonly verdict: Verdict }>;
  /** Forward-confirmed reverse DNS name of the client, for the Received header. */
  reverseName?(ip: string): Promise<string | undefined>;
}

export interface SmtpLimits {
  /** Bytes of message content (after dot-unstuffing); advertised as SIZE. Default 25 MiB. */
  readonly maxMessageSize: number;
  /** RCPT commands accepted per message. Default 100. */
  readonly maxRecipients: number;
  /** Idle time allowed between commands and while DATA streams. Default 5 minutes (RFC 5321 4.5.3.2). */
  readonly commandTimeoutMs: number;
  /** Error replies before the session is closed with 421 (reported as a 'scan' security event). Default 10. */
  readonly maxErrors: number;
  /** Longest command line, CRLF included. Default 2048 (RFC 5321 asks for at least 512). */
  readonly maxLineLength: number;
}

export interface SmtpOptions {
  readonly mode: SmtpMode;
  /** `[server] hostname`: greeting, EHLO, Received `by`. */
  readonly hostname: string;
  /** `[mail] domains`: local domains; anything else is relaying. */
  readonly domains: readonly string[];
  /**
   * Where mail to "Postmaster" and postmaster@<local domain> goes when no such account exists
   * (`mail.postmaster`). Default postmaster@<first domain>: a Maildir the operator can read.
   */
  readonly postmaster?: string;
  readonly accounts: SmtpAccounts;
  readonly deliver: SmtpDeliver;
  readonly mailAuth?: SmtpMailAuth;
  readonly events?: SecurityEventSink;
  readonly limits?: Partial<SmtpLimits>;
  /** Policy hook at MAIL FROM (rate limits, bans): refuse maps to a 4xx/5xx reply, delay waits. */
  readonly admitMessage?: (info: ConnectionInfo, sender: string) => Promise<Verdict>;
  /**
   * Policy hook before a password is checked (failed-login rate limits per client IP and per
   * account): refuse answers 454/535 without checking the password.
   */
  readonly admitLogin?: (info: ConnectionInfo, account: string) => Promise<Verdict>;
}

export const DEFAULT_LIMITS: SmtpLimits = Object.freeze({
  maxMessageSize: 25 * 1024 * 1024,
  maxRecipients: 100,
  commandTimeoutMs: 5 * 60_000,
  maxErrors: 10,
  maxLineLength: 2048,
});
