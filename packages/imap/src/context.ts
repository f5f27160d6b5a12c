import type { AcceptedConnection } from '@portico/core';
import type { ImapLimits, ImapMessage, ImapOptions } from './types.ts';

/** RFC 3501 3: the four states; 'logout' ends the session. */
export type ImapState = 'not-authenticated' | 'authenticated' | 'selected';

/** The session's view of the selected mailbox: sequence number n is messages[n - 1]. */
export interface Selected {
  readonly readOnly: boolean;
  uidValidity: number;
  uidNext: number;
  messages: ImapMessage[];
}

/** What a command handler sees of the session. */
export interface SessionContext {
  readonly conn: AcceptedConnection;
  readonly options: ImapOptions;
  readonly limits: ImapLimits;
  readonly encrypted: boolean;
  state: ImapState;
  account: string | undefined;
  selected: Selected | undefined;
  /** One response line, CRLF added. A tagged BAD counts towards maxErrors. */
  send(line: string): void;
  /** Raw bytes (a FETCH response with literals). */
  write(data: Buffer): void;
  /**
   * The next line the client sends goes to `handler` (AUTHENTICATE responses), not the parser. When
   * that line cannot be read (too long), `abandon` is called with the reason instead.
   */
  expectLine(handler: (line: string) => Promise<void> | void, abandon?: (reason: string) => void): void;
  /** Writes raw bytes, then waits until the socket has drained if its buffer is full. */
  writeAndDrain(data: Buffer): Promise<void>;
  startTls(): Promise<void>;
  close(reason: string): void;
}
