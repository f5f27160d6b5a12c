import type { AcceptedConnection } from '@portico/core';
import type { Reply } from './replies.ts';
import type { SmtpLimits, SmtpOptions } from './types.ts';

/** The envelope of the message being received (RFC 5321 3.3); reset by RSET, EHLO, HELO and after DATA. */
export interface Transaction {
  sender: string;
  recipients: string[];
  smtputf8: boolean;
  /** BDAT chunks received so far (RFC 3030); DATA is refused once there are any. */
  chunks?: { parts: Buffer[]; size: number };
}

/** What a command handler sees of the session (session.ts implements it). */
export interface SessionContext {
  readonly conn: AcceptedConnection;
  readonly options: SmtpOptions;
  readonly limits: SmtpLimits;
  /** EHLO/HELO argument; undefined until one was given (and again after STARTTLS). */
  helo: string | undefined;
  esmtp: boolean;
  /** The authenticated account (submission), lower-cased. */
  account: string | undefined;
  transaction: Transaction | undefined;
  /** `countsAsError` false: an error reply that is not the client's fault (see maxErrors). */
  send(reply: Reply, countsAsError?: boolean): void;
  /** The next line goes to this function instead of the command dispatcher (AUTH exchanges). */
  expectLine(handler: (line: string) => Promise<void> | void): void;
  /** Switch to reading message content; called after 354. */
  beginData(): void;
  /**
   * BDAT: the next `size` octets are a chunk, appended to `into` (undefined: read and dropped, never
   * buffered); then `done` runs.
   */
  readChunk(size: number, into: Buffer[] | undefined, done: () => Promise<void> | void): void;
  /** 220 sent; discard buffered input, run the handshake, continue on the new connection. */
  startTls(): Promise<void>;
  /** Reports a limit the client hit as a security event of kind 'limit' (logged, never banned for). */
  limitReached(reason: string, detail?: string): void;
  /** Send the reply (if any), then close. */
  close(reason: string, reply?: Reply): void;
  readonly encrypted: boolean;
}
