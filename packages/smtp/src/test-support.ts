/** Test harness (not a test file): a real TCP server running handleSmtpSession, and raw clients. */
import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { once } from 'node:events';
import { pino } from 'pino';
import { freezeConnectionInfo, withTls } from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, SecurityEvent, TlsState } from '@portico/core';
import { TestClient, connectTestSocket, makeTestCertificate, startTestServer } from '@portico/listener';
import type { TestCertificate } from '@portico/listener';
import { handleSmtpSession } from './session.ts';
import type { SmtpOptions } from './types.ts';

export type TestCert = TestCertificate;
export const makeCertificate = makeTestCertificate;

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
  const server = await startTestServer(onConnection, h.implicitTls ? h.cert! : undefined);
  return { port: server.port, stored, events, closeReasons, close: server.close };
}

/** A raw client that reads whole replies (the line whose 4th character is a space ends one). */
export class RawClient extends TestClient {
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await connectTestSocket(port));
  }

  static async connectTls(port: number): Promise<RawClient> {
    return new RawClient(await connectTestSocket(port, true));
  }

  /** Next complete reply, lines joined with \n (without CRLF). */
  async reply(timeoutMs = 5000): Promise<string> {
    // latin1 maps bytes 1:1, so a match's length is its length in bytes.
    const raw = await this.take((b) => /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(b.toString('latin1'))?.[0].length ?? -1, timeoutMs);
    return raw.toString('utf8').replace(/\r\n$/, '').split('\r\n').join('\n');
  }

  get pending(): string {
    return this.buffered.toString('utf8');
  }

  async command(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.reply();
  }

  override upgradeTls(): Promise<void> {
    return super.upgradeTls('mail.example.test');
  }
}
