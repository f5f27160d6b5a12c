import type { ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';

/**
 * What an IMAP session needs from the rest of the server, as interfaces: the server wires the
 * Maildir store (with its UID map); tests wire fakes. One mailbox per account: INBOX.
 */

/** The IMAP system flags Portico stores (RFC 3501 2.3.2); \Recent is never set. */
export type SystemFlag = '\\Seen' | '\\Answered' | '\\Flagged' | '\\Deleted' | '\\Draft';
export const SYSTEM_FLAGS: readonly SystemFlag[] = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export interface ImapMessage {
  /** Strictly ascending within a mailbox, never reused while uidValidity stays the same. */
  readonly uid: number;
  readonly size: number;
  /** INTERNALDATE, ms since the epoch. */
  readonly internalDate: number;
  readonly flags: readonly SystemFlag[];
}

export interface ImapMailboxState {
  readonly uidValidity: number;
  readonly uidNext: number;
  /** Ascending by uid. */
  readonly messages: readonly ImapMessage[];
}

/** The account's INBOX. Every method takes the account already authenticated (lower case). */
export interface ImapMailbox {
  list(account: string): Promise<ImapMailboxState>;
  /** The message bytes; undefined when it is gone (expunged by another session). */
  read(account: string, uid: number): Promise<Buffer | undefined>;
  /** Replaces the system flags; false when the message is gone. */
  setFlags(account: string, uid: number, flags: readonly SystemFlag[]): Promise<boolean>;
  /** Deletes these messages (already-gone ones are fine). */
  expunge(account: string, uids: readonly number[]): Promise<void>;
}

export interface ImapAccounts {
  /** Must take about as long for unknown addresses as for known ones. */
  verify(address: string, password: string): Promise<boolean>;
}

export interface ImapLimits {
  /** Idle time before `* BYE Autologout`. Default 30 minutes (RFC 3501 5.4: at least 30). */
  readonly idleTimeoutMs: number;
  /**
   * Idle time before login, and while a literal or an AUTHENTICATE response is awaited (at most
   * idleTimeoutMs). Default 60 s.
   */
  readonly loginTimeoutMs: number;
  /** BAD replies before `* BYE Too many errors` (a 'scan' security event). Default 10. */
  readonly maxErrors: number;
  /** Longest command line, CRLF included. Default 8192 (RFC 7162 3.2.1 asks clients to stay under it). */
  readonly maxLineLength: number;
  /** Largest literal `{n}` accepted (there is no APPEND, so literals only carry names and passwords). Default 64 KiB. */
  readonly maxLiteralSize: number;
}

export interface ImapOptions {
  /** `[server] hostname`: greeting and BYE lines. */
  readonly hostname: string;
  readonly accounts: ImapAccounts;
  readonly mailbox: ImapMailbox;
  readonly events?: SecurityEventSink;
  /** Policy hook before a password is checked: refuse -> NO [LIMIT] (temporary) or NO [AUTHENTICATIONFAILED]. */
  readonly admitLogin?: (info: ConnectionInfo, account: string) => Promise<Verdict>;
  readonly limits?: Partial<ImapLimits>;
}

export const DEFAULT_LIMITS: ImapLimits = Object.freeze({
  idleTimeoutMs: 30 * 60_000,
  loginTimeoutMs: 60_000,
  maxErrors: 10,
  maxLineLength: 8192,
  maxLiteralSize: 64 * 1024,
});
