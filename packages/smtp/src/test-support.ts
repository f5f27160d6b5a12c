/** Test harness (not a test file): a real TCP server running handleSmtpSession, and raw clients. */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect, createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { freezeConnectionInfo, withTls } from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, SecurityEvent, TlsState } from '@portico/core';
import { handleSmtpSession } from './session.ts';
import type { SmtpOptions } from './types.ts';

export interface TestCert {
  readonly key: string;
  readonly cert: string;
}

export function makeCertificate(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'portico-smtp-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=mail.example.test', '-days', '2', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tlsState(socket: TLSSocket): TlsState {
  const cipher = socket.getCipher();
  return { terminatedBy: 'server', version: socket.getProtocol() ?? 'unknown', cipher: cipher.standardName ?? cipher.name };
}

export interface HarnessOptions {
  readonly mode?: 'smtp' | 'submission';
  readonly cert?: TestCert;
  /** Offer STARTTLS (needs cert). */
  readonly starttls?: boolean;
  /** Implicit TLS listener (needs cert). */
  readonly implicitTls?: boolean;
  /** TLS a (pretend) trusted proxy terminated. */
  readonly proxyTls?: TlsState;
  /** The client address the "listener" determined (default 192.0.2.55, never the socket peer). */
  readonly client?: string;
  readonly accounts?: Record<string, string>;
  readonly failDelivery?: boolean;
  readonly options?: Partial<SmtpOptions>;
}

export interface StoredMessage {
  readonly address: string;
  readonly text: string;
}

export interface Harness {
  readonly port: number;
  readonly stored: StoredMessage[];
  readonly events: SecurityEvent[];
  readonly closeReasons: string[];
  close(): Promise<void>;
}

export const LOG = pino({ level: 'silent' });

export async function startHarness(h: HarnessOptions = {}): Promise<Harness> {
  const stored: StoredMessage[] = [];
  const events: SecurityEvent[] = [];
  const closeReasons: string[] = [];
  const accounts = h.accounts ?? { 'alice@example.test': 'secret', 'bob@example.test': 'hunter2' };
  const secureContext: SecureContext | undefined = h.cert ? createSecureContext({ key: h.cert.key, cert: h.cert.cert }) : undefined;
  let n = 0;
  const options: SmtpOptions = {
    mode: h.mode ?? 'smtp',
    hostname: 'mail.example.test',
    domains: ['example.test'],
    accounts: {
      exists: (address) => Object.hasOwn(accounts, address.toLowerCase()),
      verify: async (address, password) => accounts[address.toLowerCase()] === password,
    },
    deliver: async (address, message) => {
      if (h.failDelivery) throw new Error('disk full');
      stored.push({ address, text: message.toString('utf8') });
      return `m${stored.length}`;
    },
    events: { report: (event) => events.push(event) },
    ...h.options,
  };

  const make = (socket: Socket | TLSSocket, info: ConnectionInfo): AcceptedConnection => ({
    socket,
    info,
    log: LOG,
    onClose: (reason) => closeReasons.push(reason),
    ...(h.starttls && secureContext && info.tls === null
      ? {
          startTls: async () => {
            const secured = new TLSSocket(socket as Socket, { isServer: true, secureContext });
            await once(secured, 'secure');
            return make(secured, withTls(info, tlsState(secured)));
          },
        }
      : {}),
  });

  const onConnection = (socket: Socket | TLSSocket) => {
    socket.on('error', () => {});
    const tls = socket instanceof TLSSocket ? tlsState(socket) : (h.proxyTls ?? null);
    const info = freezeConnectionInfo({
      id: `c${++n}`,
      listener: 'test',
      client: { address: h.client ?? '192.0.2.55', port: 40000 + n },
      server: { address: '127.0.0.1', port: 25 },
      peer: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      via: h.client === undefined ? 'proxy-v2' : 'direct',
      tls,
      peerIsTrustedProxy: true,
      openedAt: Date.now(),
    });
    handleSmtpSession(make(socket, info), options);
  };
  let server: Server;
  if (h.implicitTls) {
    server = createTlsServer({ key: h.cert!.key, cert: h.cert!.cert }, onConnection);
  } else {
    server = createServer(onConnection);
  }
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    stored,
    events,
    closeReasons,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw client that reads whole replies (the line whose 4th character is a space ends one). */
export class RawClient {
  socket: Socket;
  #buffer = '';
  #waiters: Array<() => void> = [];
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#listen();
  }

  #listen(): void {
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    this.socket.on('error', () => {});
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  static async connectTls(port: number): Promise<RawClient> {
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    return new RawClient(socket);
  }

  /** Next complete reply, lines joined with \n (without CRLF). */
  async reply(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#buffer);
      if (m) {
        this.#buffer = this.#buffer.slice(m[0].length);
        return m[0].replace(/\r\n$/, '').split('\r\n').join('\n');
      }
      if (this.closed) throw new Error(`closed while waiting for a reply; buffer ${JSON.stringify(this.#buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply in time; buffer ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  get pending(): string {
    return this.#buffer;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  async command(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.reply();
  }

  async upgradeTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secured = tlsConnect({ socket: this.socket, rejectUnauthorized: false, servername: 'mail.example.test' });
    await once(secured, 'secureConnect');
    this.socket = secured;
    this.#buffer = '';
    this.#listen();
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}
