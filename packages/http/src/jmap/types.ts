import type { ConnectionInfo, Verdict } from '@portico/core';
/**
 * What JMAP needs from the mail store, as interfaces: the http package never imports @portico/store.
 * The server adapts its MaildirStore and Accounts to these (packages/server/src/mailbox-access.ts).
 */

/** JMAP keywords the store can keep (Maildir: S, F, R, D). Lower case, as RFC 8621 compares them. */
export type StoredKeyword = '$seen' | '$flagged' | '$answered' | '$draft';
export const STORED_KEYWORDS: readonly StoredKeyword[] = ['$seen', '$flagged', '$answered', '$draft'];

export interface MailboxMessage {
  /** Stable across flag changes (for Maildir: the file name without ":2,FLAGS"). Any characters. */
  readonly id: string;
  readonly size: number;
  /** When it arrived, ms since the epoch. */
  readonly receivedAt: number;
  readonly keywords: readonly StoredKeyword[];
}

export interface MailboxAccess {
  /** The account's messages (one mailbox, the Inbox). An account without mail has none. */
  list(account: string): Promise<readonly MailboxMessage[]>;
  /** The raw RFC 5322 bytes, or undefined when the message is gone. */
  read(account: string, id: string): Promise<Buffer | undefined>;
  /** Replaces the message's keywords. Answers false when the message is gone. */
  setKeywords(account: string, id: string, keywords: readonly StoredKeyword[]): Promise<boolean>;
}

export interface AccountsAccess {
  verify(address: string, password: string): Promise<boolean>;
  exists(address: string): boolean;
}

export interface MailOptions {
  accounts: AccountsAccess;
  mailbox: MailboxAccess;
  /**
   * Policy per account: 'login' before a password is checked (failed-login limits), 'request' for
   * every authenticated request (per-account request limits). Mapped like admitRequest (429/403).
   */
  admitAccount?(info: ConnectionInfo, account: string, stage: 'login' | 'request'): Promise<Verdict>;
  /** How often an open JMAP event source looks for state changes. Default 5 s. */
  pushPollMs?: number;
}
