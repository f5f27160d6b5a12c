/** Test harness (not a test file): a real TCP server running handleSmtpSession, and raw clients. */
import { pino } from 'pino';
import type { SecurityEvent, TlsState } from '@portico/core';
import { TestClient, connectTestSocket, makeTestCertificate, startProtocolTestServer } from '@portico/listener';
import type { TestCertificate } from '@portico/listener';
import { handleSmtpSession } from './session.ts';
import type { SmtpOptions } from './types.ts';

export type TestCert = TestCertificate;
export const makeCertificate = makeTestCertificate;

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

  const server = await startProtocolTestServer((connection) => handleSmtpSession(connection, options), {
    serverPort: 25,
    client: h.client,
    via: h.client === undefined ? 'proxy-v2' : 'direct',
    startTls: h.starttls ? h.cert : undefined,
    implicitTls: h.implicitTls ? h.cert : undefined,
    proxyTls: h.proxyTls ?? null,
    log: LOG,
    closeReasons,
  });
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
