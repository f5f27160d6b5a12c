/**
 * Test helpers for the JMAP and discovery tests (not a test file itself): a real fastify app fed by a
 * real net (or TLS) server standing in for the listener, and an in-memory MailboxAccess.
 */
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { NetworkList, canonicalSocketAddress, freezeConnectionInfo } from '@portico/core';
import type { ConnectionInfo, SecurityEvent, TlsState } from '@portico/core';
import { createHttpApp } from './app.ts';
import type { HttpApp, HttpAppOptions, ResolvedClient } from './app.ts';
import type { AccountsAccess, MailboxAccess, MailboxMessage, StoredKeyword } from './jmap/types.ts';

export const logger = pino({ level: 'silent' });
const TRUSTED = NetworkList.parse(['127.0.0.0/8', '::1']);

/**
 * Looser than @portico/listener's forwardedResolver (which app.test.ts uses): a trusted peer's
 * X-Forwarded-Proto http leaves the socket's own TLS in place, which the JMAP tests over local TLS
 * rely on. Only for the JMAP and discovery tests; the real resolver is tested in the listener package.
 */
export function standInResolver(info: ConnectionInfo, headers: IncomingHttpHeaders): ResolvedClient {
  if (!TRUSTED.has(info.client.address)) return { info };
  const xff = headers['x-forwarded-for'];
  const proto = headers['x-forwarded-proto'];
  if (typeof xff !== 'string' && proto === undefined) return { info };
  const tls: TlsState | null = proto === 'https' ? { terminatedBy: 'proxy' } : info.tls;
  const client = typeof xff === 'string' ? { address: xff.split(',').at(-1)!.trim(), port: 0 } : info.client;
  return { info: freezeConnectionInfo({ ...info, client, via: 'x-forwarded-for', tls, peerIsTrustedProxy: true }) };
}

let nextId = 0;
function infoFor(socket: Socket, tls: TlsState | null): ConnectionInfo {
  const peer = { address: canonicalSocketAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
  return freezeConnectionInfo({
    id: `j${++nextId}`,
    listener: 'web',
    client: { ...peer },
    server: { address: canonicalSocketAddress(socket.localAddress), port: socket.localPort ?? 0 },
    peer,
    via: 'direct',
    tls,
    peerIsTrustedProxy: false,
    openedAt: Date.now(),
  });
}

async function listen(server: NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export interface Harness {
  app: HttpApp;
  /** Plain http; the listener says TLS is `tls` (null: plaintext, or { terminatedBy: 'proxy' }). */
  url: string;
  events: SecurityEvent[];
  close(): Promise<void>;
}

/** `listenerTls`: what the stand-in listener puts in ConnectionInfo.tls for every plain socket. */
export async function harness(options: Partial<HttpAppOptions>, listenerTls: TlsState | null = null): Promise<Harness> {
  const events: SecurityEvent[] = [];
  const app = await createHttpApp({
    publicUrl: 'https://mail.example.test',
    resolveClient: standInResolver,
    logger,
    events: { report: (e) => events.push(e) },
    ...options,
  });
  const front = createNetServer((socket) => app.handleConnection(socket, infoFor(socket, listenerTls), logger));
  const port = await listen(front);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    events,
    async close() {
      await app.close();
      front.close();
    },
  };
}

/** The same app behind a real TLS server (we terminate TLS: tls.terminatedBy 'server'). */
export async function tlsFront(app: HttpApp): Promise<{ port: number; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-jmap-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'));
  const cert = readFileSync(join(dir, 'cert.pem'));
  rmSync(dir, { recursive: true, force: true });
  const front = createTlsServer({ key, cert }, (socket: TLSSocket) => {
    app.handleConnection(socket, infoFor(socket, { terminatedBy: 'server', version: socket.getProtocol() ?? undefined }), logger);
  });
  const port = await listen(front);
  return { port, close: () => front.close() };
}

/** Accounts with plain passwords (the real one runs scrypt); counts verify calls. */
export function fakeAccounts(passwords: Record<string, string>): AccountsAccess & { calls: number } {
  return {
    calls: 0,
    async verify(address, password) {
      this.calls++;
      return passwords[address.toLowerCase()] === password;
    },
    exists: (address) => Object.hasOwn(passwords, address.toLowerCase()),
  };
}

interface StoredFake extends MailboxMessage {
  raw: Buffer;
  keywords: StoredKeyword[];
}

/** An in-memory MailboxAccess with a deliver() for tests. */
export class FakeMailbox implements MailboxAccess {
  readonly #mail = new Map<string, StoredFake[]>();
  #n = 0;

  deliver(account: string, raw: string | Buffer, receivedAt = Date.now()): string {
    const id = `${Math.floor(receivedAt / 1000)}.M${++this.#n}.host,S=1`;
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    const list = this.#mail.get(account) ?? [];
    list.push({ id, size: bytes.length, receivedAt, keywords: [], raw: bytes });
    this.#mail.set(account, list);
    return id;
  }

  remove(account: string, id: string): void {
    this.#mail.set(account, (this.#mail.get(account) ?? []).filter((m) => m.id !== id));
  }

  async list(account: string): Promise<readonly MailboxMessage[]> {
    return (this.#mail.get(account) ?? []).map(({ id, size, receivedAt, keywords }) => ({ id, size, receivedAt, keywords: [...keywords] }));
  }

  async read(account: string, id: string): Promise<Buffer | undefined> {
    return this.#mail.get(account)?.find((m) => m.id === id)?.raw;
  }

  async setKeywords(account: string, id: string, keywords: readonly StoredKeyword[]): Promise<boolean> {
    const message = this.#mail.get(account)?.find((m) => m.id === id);
    if (!message) return false;
    message.keywords = [...keywords];
    return true;
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** node:http request (fetch cannot send its own Host header). */
export function request(
  url: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
