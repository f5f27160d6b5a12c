import type { ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';

/**
 * What a POP3 session needs from the rest of the server, as interfaces: the server wires the real
 * accounts and Maildir store (@portico/store); tests wire fakes.
 */

/** `[mail.accounts]`: whose password is right. */
export interface Pop3Accounts {
  /** Must take about as long for unknown addresses as for known ones. */
  verify(address: string, password: string): Promise<boolean>;
}

/** One message of a maildrop as listed: `id` must stay the same for the message's lifetime (it is the UIDL). */
export interface Pop3MessageEntry {
  readonly id: string;
  /** Octets of the message as RETR sends it (before dot-stuffing). */
  readonly size: number;
}

/** The account's mailbox (the server adapts its Maildir store). */
export interface Pop3Mailbox {
  /** Every message, in a stable order (oldest first): message numbers are positions in this list. */
  list(account: string): Promise<readonly Pop3MessageEntry[]>;
  /** The message's bytes; undefined when it is gone (another session deleted it). */
  read(account: string, id: string): Promise<Buffer | undefined>;
  /** Deletes one message; false when it was already gone (deleting is idempotent). */
  remove(account: string, id: string): Promise<boolean>;
}

export interface Pop3Limits {
  /**
   * Idle time allowed between commands before the session is closed without entering UPDATE
   * (no DELE takes effect). RFC 1939 section 3 asks for at least 10 minutes; the default.
   */
  readonly idleTimeoutMs: number;
  /** Error replies before the session is closed (reported as a 'scan' security event). Default 10. */
  readonly maxErrors: number;
  /** Longest command line, CRLF included. Default 1024 (RFC 2449 section 4 allows 255 for commands; SASL responses are longer). */
  readonly maxLineLength: number;
}

export interface Pop3Options {
  /** `[server] hostname`: greeting and sign-off. */
  readonly hostname: string;
  readonly accounts: Pop3Accounts;
  readonly mailbox: Pop3Mailbox;
  readonly events?: SecurityEventSink;
  /**
   * Policy hook before a password is checked (failed-login rate limits per client IP and per
   * account): refuse answers `-ERR [SYS/TEMP]` (temporary) or `-ERR [AUTH]` without checking the password.
   */
  readonly admitLogin?: (info: ConnectionInfo, account: string) => Promise<Verdict>;
  readonly limits?: Partial<Pop3Limits>;
}

export const DEFAULT_LIMITS: Pop3Limits = Object.freeze({
  idleTimeoutMs: 10 * 60_000,
  maxErrors: 10,
  maxLineLength: 1024,
});
