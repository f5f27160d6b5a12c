/** Test harness (not a test file): a real TCP server running handleImapSession over a fake INBOX, and a raw client. */
import type { SecurityEvent } from '@portico/core';
import { TestClient, connectTestSocket, makeTestCertificate, startProtocolTestServer } from '@portico/listener';
import { handleImapSession } from './session.ts';
import type { ImapMailbox, ImapMessage, ImapOptions, SystemFlag } from './types.ts';

export const makeCertificate = makeTestCertificate;

/** An in-memory INBOX: messages by uid. */
export class FakeMailbox implements ImapMailbox {
  messages: { uid: number; body: Buffer; flags: SystemFlag[]; internalDate: number }[] = [];
  uidNext = 1;
  add(body: string, flags: SystemFlag[] = []): number {
    const uid = this.uidNext++;
    this.messages.push({ uid, body: Buffer.from(body), flags, internalDate: Date.UTC(2026, 0, 2, 3, 4, 5) });
    return uid;
  }
  async list() {
    const messages: ImapMessage[] = this.messages.map((m) => ({ uid: m.uid, size: m.body.length, internalDate: m.internalDate, flags: [...m.flags] }));
    return { uidValidity: 1234, uidNext: this.uidNext, messages };
  }
  async read(_account: string, uid: number) {
    return this.messages.find((m) => m.uid === uid)?.body;
  }
  async setFlags(_account: string, uid: number, flags: readonly SystemFlag[]) {
    const m = this.messages.find((x) => x.uid === uid);
    if (m) m.flags = [...flags];
    return m !== undefined;
  }
  async expunge(_account: string, uids: readonly number[]) {
    this.messages = this.messages.filter((m) => !uids.includes(m.uid));
  }
}

export interface Harness {
  readonly port: number;
  readonly mailbox: FakeMailbox;
  readonly events: SecurityEvent[];
  readonly closeReasons: string[];
  close(): Promise<void>;
}

/** `encrypted`: pretend a trusted proxy terminated TLS; `starttls`: offer a real STARTTLS. */
export async function startHarness(h: { encrypted?: boolean; starttls?: boolean; options?: Partial<ImapOptions> } = {}): Promise<Harness> {
  const events: SecurityEvent[] = [];
  const closeReasons: string[] = [];
  const mailbox = new FakeMailbox();
  const cert = h.starttls ? makeCertificate() : undefined;
  const options: ImapOptions = {
    hostname: 'mail.example.test',
    accounts: { verify: async (a, p) => a === 'alice@example.test' && p === 'secret pass' },
    mailbox,
    events: { report: (e) => events.push(e) },
    ...h.options,
  };
  const server = await startProtocolTestServer((connection) => handleImapSession(connection, options), {
    serverPort: 143,
    startTls: cert,
    proxyTls: h.encrypted ? { terminatedBy: 'proxy' } : null,
    closeReasons,
  });
  return { port: server.port, mailbox, events, closeReasons, close: server.close };
}

/** A raw client: reads everything up to the tagged line (or the continuation / greeting line). */
export class Client extends TestClient {
  static async connect(port: number): Promise<Client> {
    return new Client(await connectTestSocket(port));
  }

  /** Text up to and including the first line that satisfies `done` (latin1, so bytes map 1:1). */
  async until(done: (line: string) => boolean): Promise<string> {
    const raw = await this.take((b) => {
      const text = b.toString('latin1');
      for (let start = 0, lf = text.indexOf('\n'); lf !== -1; start = lf + 1, lf = text.indexOf('\n', start)) {
        if (done(text.slice(start, lf + 1))) return lf + 1;
      }
      return -1;
    }, Infinity);
    return raw.toString('latin1');
  }

  greeting(): Promise<string> {
    return this.until(() => true);
  }

  async command(tag: string, text: string): Promise<string> {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until((line) => line.startsWith(`${tag} `));
  }

  /** No deadline: a test that never sees the close fails on its own timeout. */
  override waitClosed(): Promise<void> {
    return super.waitClosed(Infinity);
  }
}
