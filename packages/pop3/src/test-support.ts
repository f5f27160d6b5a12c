/**
 * Test harness (not a test file): a real TCP (or TLS) listener running handlePop3Session over an
 * in-memory mailbox, and a raw client that reads POP3 responses. The same approach as
 * @portico/smtp's test-support, cut down to what POP3 needs.
 */
import { pino } from 'pino';
import type { SecurityEvent } from '@portico/core';
import { TestClient, connectTestSocket, makeTestCertificate, startProtocolTestServer } from '@portico/listener';
import { handlePop3Session } from './session.ts';
import type { Pop3Options } from './types.ts';

let cert: { key: string; cert: string } | undefined;

/** One self-signed certificate per test process. */
function certificate(): { key: string; cert: string } {
  cert ??= makeTestCertificate();
  return cert;
}

export interface HarnessOptions {
  /** 'plain' (default; offers STLS unless `stls: false`), 'implicit' TLS, or 'proxy' (TLS a trusted proxy terminated). */
  readonly tls?: 'plain' | 'implicit' | 'proxy';
  readonly stls?: boolean;
  /** Messages per account, oldest first. */
  readonly messages?: Record<string, string[]>;
  readonly options?: Partial<Pop3Options>;
}

export interface Harness {
  readonly port: number;
  /** The in-memory mailbox: account -> id -> bytes (removed ids disappear). */
  readonly store: Map<string, Map<string, Buffer>>;
  readonly events: SecurityEvent[];
  readonly closeReasons: string[];
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

const ACCOUNTS: Record<string, string> = { 'alice@example.test': 'secret', 'bob@example.test': 'hunter2' };

export async function startHarness(h: HarnessOptions = {}): Promise<Harness> {
  const store = new Map<string, Map<string, Buffer>>();
  let id = 0;
  for (const [account, texts] of Object.entries(h.messages ?? {})) {
    store.set(account, new Map(texts.map((t) => [`key${++id}.host,S=${t.length}`, Buffer.from(t)])));
  }
  const events: SecurityEvent[] = [];
  const closeReasons: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const options: Pop3Options = {
    hostname: 'mail.example.test',
    accounts: { verify: async (address, password) => ACCOUNTS[address] === password },
    mailbox: {
      list: async (account) => [...(store.get(account) ?? new Map<string, Buffer>())].map(([key, bytes]) => ({ id: key, size: bytes.length })),
      read: async (account, key) => store.get(account)?.get(key),
      remove: async (account, key) => store.get(account)?.delete(key) ?? false,
    },
    events: { report: (event) => events.push(event) },
    ...h.options,
  };
  const mode = h.tls ?? 'plain';
  const server = await startProtocolTestServer((connection) => handlePop3Session(connection, options), {
    serverPort: 110,
    startTls: mode === 'plain' && h.stls !== false ? certificate() : undefined,
    implicitTls: mode === 'implicit' ? certificate() : undefined,
    proxyTls: mode === 'proxy' ? { terminatedBy: 'proxy' } : null,
    log,
    closeReasons,
  });
  return { port: server.port, store, events, closeReasons, logs, close: server.close };
}

/** A raw client: `line()` is one status line, `multiline()` a whole multi-line response (terminator removed, not unstuffed). */
export class Pop3Client extends TestClient {
  static async connect(port: number, tls = false): Promise<Pop3Client> {
    return new Pop3Client(await connectTestSocket(port, tls));
  }

  /** The next status line without CRLF. */
  async line(timeoutMs = 5000): Promise<string> {
    const raw = await this.take((b) => (b.indexOf('\r\n') === -1 ? -1 : b.indexOf('\r\n') + 2), timeoutMs);
    return raw.subarray(0, raw.length - 2).toString('utf8');
  }

  /** The body of a multi-line response, as sent (still stuffed), without the final ".\r\n". */
  async multiline(timeoutMs = 5000): Promise<Buffer> {
    const raw = await this.take((b) => {
      if (b.subarray(0, 3).toString() === '.\r\n') return 3;
      const i = b.indexOf('\r\n.\r\n');
      return i === -1 ? -1 : i + 5;
    }, timeoutMs);
    return raw.subarray(0, raw.length - 3);
  }

  async command(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.line();
  }

  /** Sends a command whose +OK is followed by a multi-line body: [status line, body text]. */
  async multi(line: string): Promise<[string, string]> {
    const status = await this.command(line);
    return [status, status.startsWith('+OK') ? (await this.multiline()).toString('latin1') : ''];
  }

  override upgradeTls(): Promise<void> {
    return super.upgradeTls('mail.example.test');
  }
}

export const plainResponse = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');
