import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type {
  ConnectionHandler,
  ConnectionInfo,
  NetworkList,
  ProtocolGreetingErrors,
  SecurityEventSink,
  Verdict,
} from '@portico/core';

export type ProxyMode = 'proxy-protocol' | 'x-forwarded-for' | 'none';

export interface ListenerOptions {
  /** The listener id from the config (`[server.listener.<id>]`), carried in every log line. */
  readonly id: string;
  /** "127.0.0.1:2525", "[::1]:2525"; port 0 picks a free port. */
  readonly bind: readonly string[];
  readonly proxy: {
    readonly mode: ProxyMode;
    /** The effective list: the listener's own, or the global one. Empty = trust nobody. */
    readonly trustedNetworks: NetworkList;
    /** A trusted peer must send its whole PROXY header within this. */
    readonly timeoutMs: number;
  };
  readonly tls: {
    readonly implicit: boolean;
    /** Every connection from a trusted peer here had TLS terminated by that proxy. */
    readonly terminatedByProxy: boolean;
    /** Needed for implicit TLS and for STARTTLS. */
    readonly secureContext?: SecureContext;
  };
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly errors: ProtocolGreetingErrors;
  readonly logger: Logger;
  readonly events?: SecurityEventSink;
  /** Ban and connection-rate checks: run once the client is known, before the protocol speaks. */
  readonly admit?: (info: ConnectionInfo) => Verdict | Promise<Verdict>;
  /**
   * The client speaks first (HTTP): an untrusted peer's first bytes are read and checked for a PROXY
   * header before the protocol gets the socket. Server-first protocols (SMTP, IMAP, POP3) greet at
   * once, so their first bytes are watched as they arrive instead (untrusted-guard.ts); that cannot
   * work for Node's HTTP server, which reads the socket's handle without emitting 'data'.
   */
  readonly clientSpeaksFirst?: boolean;
  readonly onConnection: ConnectionHandler;
}

export interface BoundAddress {
  readonly address: string;
  readonly port: number;
}

export interface RunningListener {
  readonly id: string;
  readonly addresses: readonly BoundAddress[];
  readonly activeConnections: number;
  /** Closes the listening sockets; open connections go on. */
  stopAccepting(): Promise<void>;
  /** Destroys every open connection (the end of a graceful shutdown). */
  closeAll(): void;
  /** Resolves when no connection is open any more. */
  drained(): Promise<void>;
}
