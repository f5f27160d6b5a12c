/** Test harness (not a test file): a real TCP server running handleImapSession over a fake INBOX, and a raw client. */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect, createSecureContext } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { freezeConnectionInfo, withTls } from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, SecurityEvent } from '@portico/core';
import { handleImapSession } from './session.ts';
import type { ImapMailbox, ImapMessage, ImapOptions, SystemFlag } from './types.ts';

export function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portico-imap-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-subj', '/CN=mail.example.test', '-days', '2', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
  const secureContext = cert ? createSecureContext(cert) : undefined;
  const options: ImapOptions = {
    hostname: 'mail.example.test',
    accounts: { verify: async (a, p) => a === 'alice@example.test' && p === 'secret pass' },
    mailbox,
    events: { report: (e) => events.push(e) },
    ...h.options,
  };
  const make = (socket: Socket | TLSSocket, info: ConnectionInfo): AcceptedConnection => ({
    socket,
    info,
    log: pino({ level: 'silent' }),
    onClose: (reason) => closeReasons.push(reason),
    ...(secureContext && info.tls === null
      ? {
          startTls: async () => {
            const secured = new TLSSocket(socket as Socket, { isServer: true, secureContext });
            await once(secured, 'secure');
            return make(secured, withTls(info, { terminatedBy: 'server', version: secured.getProtocol() ?? '' }));
          },
        }
      : {}),
  });
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const info = freezeConnectionInfo({
      id: `c${++n}`, listener: 'test',
      client: { address: '192.0.2.55', port: 40000 + n }, server: { address: '127.0.0.1', port: 143 },
      peer: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      via: 'proxy-v2', tls: h.encrypted ? { terminatedBy: 'proxy' } : null, peerIsTrustedProxy: true, openedAt: Date.now(),
    });
    handleImapSession(make(socket, info), options);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    mailbox, events, closeReasons,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw client: reads everything up to the tagged line (or the continuation / greeting line). */
export class Client {
  socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#listen();
  }

  static async connect(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new Client(socket);
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

  /** Text up to and including the first line that satisfies `done` (latin1, so bytes map 1:1). */
  async until(done: (line: string) => boolean): Promise<string> {
    for (;;) {
      const text = this.#buffer.toString('latin1');
      let start = 0;
      for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', start)) {
        if (done(text.slice(start, lf + 1))) {
          this.#buffer = this.#buffer.subarray(lf + 1);
          return text.slice(0, lf + 1);
        }
        start = lf + 1;
      }
      if (this.closed) throw new Error(`closed; got ${JSON.stringify(text)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  greeting(): Promise<string> {
    return this.until(() => true);
  }

  async command(tag: string, text: string): Promise<string> {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until((line) => line.startsWith(`${tag} `));
  }

  write(text: string): void {
    this.socket.write(text);
  }

  async upgradeTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secured = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    await once(secured, 'secureConnect');
    this.socket = secured;
    this.#buffer = Buffer.alloc(0);
    this.#listen();
  }

  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  end(): void {
    this.socket.destroy();
  }
}
