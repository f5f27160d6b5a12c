import type { AcceptedConnection } from '@portico/core';
import type { Maildrop } from './maildrop.ts';
import type { Reply } from './replies.ts';
import type { Pop3Limits, Pop3Options } from './types.ts';

/** RFC 1939 section 3. UPDATE lasts only while QUIT removes messages, so it is not a state here. */
export type Pop3State = 'authorization' | 'transaction';

/** What a command handler sees of the session (session.ts implements it). */
export interface SessionContext {
  readonly conn: AcceptedConnection;
  readonly options: Pop3Options;
  readonly limits: Pop3Limits;
  state: Pop3State;
  /** The name a USER command gave, waiting for PASS (cleared by any other command). */
  pendingUser: string | undefined;
  /** The authenticated account (lower-cased), set with the maildrop on entering TRANSACTION. */
  account: string | undefined;
  maildrop: Maildrop | undefined;
  /** TLS on the client's leg: ours (implicit, STLS) or a trusted proxy's. */
  readonly encrypted: boolean;
  /** `countsAsError` false: an error reply that is not the client's fault (see maxErrors). */
  send(reply: Reply, countsAsError?: boolean): void;
  /** A status line, then a multi-line body; resolves once the socket took it (backpressure). */
  sendMultiline(reply: Reply, body: Buffer | readonly string[]): Promise<void>;
  /** Raw text on the wire (SASL `+ ` continuations). */
  write(text: string): void;
  /** The next line goes to this function instead of the command dispatcher (AUTH exchanges). */
  expectLine(handler: (line: string) => Promise<void> | void): void;
  /** `+OK` sent; discard buffered input, run the handshake, continue on the new connection. */
  startTls(): Promise<void>;
  /** Send the reply (if any), then close. */
  close(reason: string, reply?: Reply): void;
}
