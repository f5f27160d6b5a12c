/**
 * Test support shared by the protocol packages (not used in production): a self-signed certificate,
 * a real TCP or TLS server on 127.0.0.1 (bare, or handing AcceptedConnections as the listener would),
 * and the raw client their wire tests build on. Each protocol keeps a small test-support.ts that adds
 * its own options and the reads its replies need.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect, createServer as createTlsServer, createSecureContext } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { freezeConnectionInfo, withTls } from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, TlsState, Via } from '@portico/core';
import { tlsStateOfSocket } from './tls-state.ts';

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

/** A fresh self-signed P-256 certificate for mail.example.test (openssl CLI). */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'portico-test-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=mail.example.test', '-days', '2', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestServer {
  readonly port: number;
  /** Destroys every open connection, then stops listening. */
  close(): Promise<void>;
}

/** A server on 127.0.0.1 (a free port) handing each socket to `onConnection`; implicit TLS with `cert`. */
export async function startTestServer(onConnection: (socket: Socket | TLSSocket) => void, cert?: TestCertificate): Promise<TestServer> {
  const server: Server = cert ? createTlsServer({ key: cert.key, cert: cert.cert }, onConnection) : createServer(onConnection);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the listener would have determined about each connection of a protocol test server. */
export interface ProtocolTestOptions {
  /** The client address; default 192.0.2.55 (never the socket's peer), as a trusted proxy told. */
  readonly client?: string;
  /** How the client address was learned; default 'proxy-v2'. */
  readonly via?: Via;
  /** The server's port in ConnectionInfo (the protocol's well-known one). */
  readonly serverPort: number;
  /** Offer STARTTLS with this certificate. */
  readonly startTls?: TestCertificate;
  /** Implicit TLS with this certificate. */
  readonly implicitTls?: TestCertificate;
  /** TLS a trusted proxy terminated, on connections that are not TLS here. */
  readonly proxyTls?: TlsState | null;
  readonly log?: Logger;
  /** Every reason a session reported for closing, in order. */
  readonly closeReasons?: string[];
}

/**
 * A protocol test server: each socket reaches `handle` as an AcceptedConnection, as the listener
 * would hand it over (ConnectionInfo, logger, STARTTLS that makes a new ConnectionInfo), without
 * the PROXY and trust steps that the listener's own tests cover.
 */
export async function startProtocolTestServer(handle: (connection: AcceptedConnection) => void, o: ProtocolTestOptions): Promise<TestServer> {
  const log = o.log ?? pino({ level: 'silent' });
  const startTlsContext = o.startTls ? createSecureContext(o.startTls) : undefined;
  const accepted = (socket: Socket | TLSSocket, info: ConnectionInfo): AcceptedConnection => ({
    socket,
    info,
    log,
    onClose: (reason) => o.closeReasons?.push(reason),
    ...(startTlsContext && info.tls === null
      ? {
          startTls: async () => {
            const secured = new TLSSocket(socket as Socket, { isServer: true, secureContext: startTlsContext });
            await once(secured, 'secure');
            return accepted(secured, withTls(info, tlsStateOfSocket(secured)));
          },
        }
      : {}),
  });
  let count = 0;
  return startTestServer((socket) => {
    socket.on('error', () => {});
    count++;
    const info = freezeConnectionInfo({
      id: `c${count}`,
      listener: 'test',
      client: { address: o.client ?? '192.0.2.55', port: 40000 + count },
      server: { address: '127.0.0.1', port: o.serverPort },
      peer: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      via: o.via ?? 'proxy-v2',
      tls: socket instanceof TLSSocket ? tlsStateOfSocket(socket) : (o.proxyTls ?? null),
      peerIsTrustedProxy: (o.via ?? 'proxy-v2') !== 'direct',
      openedAt: Date.now(),
    });
    handle(accepted(socket, info));
  }, o.implicitTls);
}

/** A connected client socket to 127.0.0.1 (TLS without certificate checks when `tls`). */
export async function connectTestSocket(port: number, tls = false): Promise<Socket> {
  const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
  await once(socket, tls ? 'secureConnect' : 'connect');
  return socket;
}

/** A raw client that collects the bytes it receives; a protocol's client reads them with take(). */
export class TestClient {
  socket: Socket;
  closed = false;
  #buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    this.#listen();
  }

  #listen(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    this.socket.on('error', () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Received bytes not taken yet. */
  protected get buffered(): Buffer {
    return this.#buffer;
  }

  /**
   * Waits until `end(buffered)` says how many bytes make the next unit (-1: not yet), and takes them.
   * Fails when the socket closes first or after timeoutMs (Infinity: waits as long as the test).
   */
  protected async take(end: (buffer: Buffer) => number, timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = end(this.#buffer);
      if (at !== -1) {
        const out = this.#buffer.subarray(0, at);
        this.#buffer = this.#buffer.subarray(at);
        return out;
      }
      const got = JSON.stringify(this.#buffer.toString('latin1'));
      if (this.closed) throw new Error(`closed while waiting; buffer ${got}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing in time; buffer ${got}`);
      await new Promise<void>((resolve) => {
        const t = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** STARTTLS on the client side: what was received in plaintext and not taken is dropped. */
  async upgradeTls(servername?: string): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secured = tlsConnect({ socket: this.socket, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    await once(secured, 'secureConnect');
    this.socket = secured;
    this.#buffer = Buffer.alloc(0);
    this.#listen();
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.take((b) => (this.closed ? b.length : -1), timeoutMs).catch((error: unknown) => {
      if (!this.closed) throw error;
    });
  }

  end(): void {
    this.socket.destroy();
  }
}
