import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ConnectionInfo } from './connection.ts';

/**
 * What the listener hands a protocol once it knows who the client is: the socket (plain or TLS),
 * the frozen ConnectionInfo and a child logger that carries the connection's id and addresses.
 */
export interface AcceptedConnection {
  readonly socket: Socket | TLSSocket;
  readonly info: ConnectionInfo;
  readonly log: Logger;
  /**
   * STARTTLS: runs the server-side handshake on this socket and answers a new AcceptedConnection
   * (new TLSSocket, new ConnectionInfo with tls set). Undefined when the listener has no certificate
   * or the connection is already encrypted.
   */
  readonly startTls?: () => Promise<AcceptedConnection>;
  /** Tells the listener why the session ended (e.g. "quit", "timeout"), for its close log line. */
  readonly onClose: (reason: string) => void;
}

export type ConnectionHandler = (connection: AcceptedConnection) => void;

/** The protocol's words for the errors the listener must send before handing a connection over. */
export interface ProtocolGreetingErrors {
  /** A trusted peer did not send its PROXY header in time (SMTP 421 4.4.2, IMAP * BYE, POP3 -ERR, HTTP 400). */
  proxyTimeout: string;
  /** A header that cannot be parsed, or a PROXY header from a peer we do not trust. */
  proxyRefused: string;
  /** Too many connections (listener or per client IP). */
  tooManyConnections: string;
  /** A policy (ban, rate limit) refused the client before the greeting. */
  refused: (message: string) => string;
}
