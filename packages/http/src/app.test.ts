import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, connect } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer as createHttpServer, request as httpRequest, Agent } from 'node:http';
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import {
  NetworkList,
  PorticoError,
  canonicalSocketAddress,
  connectionLogFields,
  freezeConnectionInfo,
  refuse,
  ALLOW,
} from '@portico/core';
import type { ConnectionInfo, SecurityEvent, TlsState, Verdict } from '@portico/core';
import { forwardedResolver } from '@portico/listener';
import { createHttpApp } from './app.ts';
import type { HttpApp, HttpAppOptions } from './app.ts';

const logger = pino({ level: 'silent' });
const TRUSTED = NetworkList.parse(['127.0.0.0/8', '::1']);

// The resolver the server wires for an x-forwarded-for listener, with the same trust list.
const resolveClient = forwardedResolver(TRUSTED, { header: 'x-forwarded-for' });

interface Harness {
  app: HttpApp;
  url: string;
  port: number;
  infos: ConnectionInfo[];
  close(): Promise<void>;
}

let nextId = 0;

function connectionInfoFor(socket: Socket, clientAddress: string | undefined, tls: TlsState | null): ConnectionInfo {
  const peer = { address: canonicalSocketAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
  return freezeConnectionInfo({
    id: `t${++nextId}`,
    listener: 'web',
    client: clientAddress === undefined ? { ...peer } : { address: clientAddress, port: 40000 },
    server: { address: canonicalSocketAddress(socket.localAddress), port: socket.localPort ?? 0 },
    peer,
    via: clientAddress === undefined ? 'direct' : 'proxy-v2',
    tls,
    peerIsTrustedProxy: clientAddress !== undefined,
    openedAt: Date.now(),
  });
}

async function listen(server: NetServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * A plain TCP server standing in for the listener: accepts sockets and hands them to the app with a
 * hand-built frozen ConnectionInfo. `clientAddress` pretends a PROXY header named that client.
 */
async function harness(options: Partial<HttpAppOptions> = {}, clientAddress?: string): Promise<Harness> {
  const app = await createHttpApp({ publicUrl: 'http://localhost:8080', resolveClient, logger, ...options });
  const infos: ConnectionInfo[] = [];
  const front = createNetServer((socket) => {
    const info = connectionInfoFor(socket, clientAddress, null);
    infos.push(info);
    app.handleConnection(socket, info, logger.child(connectionLogFields(info)));
  });
  const port = await listen(front);
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    infos,
    async close() {
      await app.close();
      front.close();
    },
  };
}

interface Upstream {
  url: string;
  seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  upgrades: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A real upstream http server that records what it receives, and accepts websocket upgrades. */
async function upstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const upgrades: Upstream['upgrades'] = [];
  const sockets = new Set<Socket>();
  const server: HttpServer = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.setHeader('content-type', 'text/plain');
      res.end(`upstream saw ${req.method} ${req.url}`);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket: Socket) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sockets.add(socket);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    upgrades,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Sends raw bytes and collects everything until the server closes or `until` matches. */
async function raw(port: number, payload: string, until?: RegExp): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let text = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, 3000);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (until?.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    // A reset after what was answered (or instead of any answer) is part of what a test looks at.
    socket.on('error', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(payload);
  });
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('GET /healthz answers 200 {"status":"ok"} and is never rate limited', async () => {
  let asked = 0;
  const h = await harness({
    admitRequest: () => {
      asked++;
      return refuse('rate-limit', 'slow down', true, 30);
    },
  });
  try {
    const res = await fetch(`${h.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    assert.equal(asked, 0);
  } finally {
    await h.close();
  }
});

test('GET /api/connection answers the connection as the listener described it', async () => {
  const h = await harness();
  try {
    const res = await fetch(`${h.url}/api/connection`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    const info = h.infos[0]!;
    assert.deepEqual(body, {
      id: info.id,
      listener: 'web',
      client: info.client,
      server: info.server,
      peer: info.peer,
      via: 'direct',
      tls: null,
    });
  } finally {
    await h.close();
  }
});

test('GET /api/connection: the client from X-Forwarded-For of a trusted peer, TLS from the proxy', async () => {
  const h = await harness();
  try {
    const res = await fetch(`${h.url}/api/connection`, {
      headers: { 'x-forwarded-for': '1.2.3.4, 203.0.113.7', 'x-forwarded-proto': 'https' },
    });
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.client, { address: '203.0.113.7', port: 0 });
    assert.equal(body.via, 'x-forwarded-for');
    assert.deepEqual(body.tls, { terminatedBy: 'proxy' });
    assert.deepEqual(body.peer, h.infos[0]!.peer);
    assert.equal(body.id, h.infos[0]!.id);
  } finally {
    await h.close();
  }
});

test('GET /api/connection: headers from an untrusted client are ignored, and it says why', async () => {
  const h = await harness({}, '192.0.2.9');
  try {
    const res = await fetch(`${h.url}/api/connection`, { headers: { 'x-forwarded-for': '10.0.0.1' } });
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.client, { address: '192.0.2.9', port: 40000 });
    assert.equal(body.via, 'proxy-v2');
    assert.equal(body.ignored, 'peer 192.0.2.9 is not a trusted proxy');
  } finally {
    await h.close();
  }
});

test('the client is resolved per request: a proxy multiplexing clients on one connection', async () => {
  const h = await harness();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const get = (xff: string) =>
      new Promise<{ body: Record<string, unknown>; reused: boolean }>((resolve, reject) => {
        const req = httpRequest(`${h.url}/api/connection`, { agent, headers: { 'x-forwarded-for': xff } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ body: JSON.parse(text) as Record<string, unknown>, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    const first = await get('203.0.113.1');
    const second = await get('203.0.113.2');
    assert.equal(second.reused, true);
    assert.equal(first.body.id, second.body.id);
    assert.deepEqual(first.body.client, { address: '203.0.113.1', port: 0 });
    assert.deepEqual(second.body.client, { address: '203.0.113.2', port: 0 });
    assert.equal(h.infos.length, 1);
  } finally {
    agent.destroy();
    await h.close();
  }
});

test('proxied route: upstream gets the resolved client in X-Forwarded-For, never the spoofed one', async () => {
  const up = await upstream();
  const h = await harness({ routes: [{ prefix: '/webmail', upstream: up.url }] }, '192.0.2.9');
  try {
    const res = await fetch(`${h.url}/webmail/inbox?folder=1`, {
      headers: {
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-proto': 'https',
        forwarded: 'for=1.2.3.4;proto=https',
        'x-real-ip': '1.2.3.4',
        'x-forwarded-host': 'evil.test',
        cookie: 'session=abc',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'upstream saw GET /inbox?folder=1');
    const got = up.seen[0]!;
    assert.equal(got.headers['x-forwarded-for'], '192.0.2.9');
    assert.equal(got.headers['x-forwarded-proto'], 'http');
    assert.equal(got.headers.forwarded, undefined);
    assert.equal(got.headers['x-real-ip'], undefined);
    assert.equal(got.headers['x-forwarded-host'], undefined);
    assert.equal(got.headers.cookie, 'session=abc');

    const post = await fetch(`${h.url}/webmail/send`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(post.status, 200);
    assert.equal(up.seen[1]!.body, 'hello');
    assert.equal(up.seen[1]!.method, 'POST');
  } finally {
    await h.close();
    await up.close();
  }
});

test('proxied route behind a trusted proxy: the resolved client and proto go upstream', async () => {
  const up = await upstream();
  const h = await harness({ routes: [{ prefix: '/webmail', upstream: up.url }] });
  try {
    const res = await fetch(`${h.url}/webmail/`, { headers: { 'x-forwarded-for': '1.2.3.4, 203.0.113.7', 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 200);
    assert.equal(up.seen[0]!.headers['x-forwarded-for'], '203.0.113.7');
    assert.equal(up.seen[0]!.headers['x-forwarded-proto'], 'https');
  } finally {
    await h.close();
    await up.close();
  }
});

test('proxied route: websocket upgrades reach the upstream with the resolved client', async () => {
  const up = await upstream();
  const h = await harness({ routes: [{ prefix: '/webmail', upstream: up.url }] }, '192.0.2.9');
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/webmail/socket?x=1`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('websocket failed')));
    });
    await waitFor(() => up.upgrades.length > 0);
    assert.equal(up.upgrades[0]!.url, '/socket?x=1');
    assert.equal(up.upgrades[0]!.headers['x-forwarded-for'], '192.0.2.9');
    assert.equal(up.upgrades[0]!.headers['x-forwarded-proto'], 'http');
    ws.close();
  } finally {
    await h.close();
    await up.close();
  }
});

test('proxied route: an upstream that is down answers an error, the app keeps serving', async () => {
  const dead = createNetServer();
  const deadPort = await listen(dead);
  dead.close();
  const h = await harness({ routes: [{ prefix: '/webmail', upstream: `http://127.0.0.1:${deadPort}` }] });
  try {
    const res = await fetch(`${h.url}/webmail/x`);
    assert.ok(res.status >= 500 && res.status < 600, String(res.status));
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
  } finally {
    await h.close();
  }
});

test('scan paths answer 404 and report a scan event against the resolved client', async () => {
  const events: SecurityEvent[] = [];
  let admitted = 0;
  const h = await harness({
    scanPaths: ['/wp-login.php', '/.env'],
    events: { report: (e) => events.push(e) },
    admitRequest: () => {
      admitted++;
      return ALLOW;
    },
  });
  try {
    for (const path of ['/wp-login.php', '/WP-LOGIN.PHP?x=1', '/.env', '/.env/production', '/%2eenv', '//.env']) {
      const res = await fetch(`${h.url}${path}`, { headers: { 'x-forwarded-for': '203.0.113.66' } });
      assert.equal(res.status, 404, path);
    }
    assert.equal(events.length, 6);
    assert.deepEqual(
      events.map((e) => [e.kind, e.reason, e.connection.client.address]),
      Array.from({ length: 6 }, () => ['scan', 'scan-path', '203.0.113.66']),
    );
    assert.equal((await fetch(`${h.url}/environment`)).status, 404);
    assert.equal(events.length, 6, 'an ordinary 404 is not a scan');
    assert.equal(admitted, 1);
  } finally {
    await h.close();
  }
});

test('admitRequest: refuse temporary -> 429 with Retry-After, permanent -> 403, delay -> waits', async () => {
  let verdict: Verdict = refuse('rate-limit', 'too many requests from 203.0.113.7', true, 12.2);
  const seen: ConnectionInfo[] = [];
  const h = await harness({
    admitRequest: (info) => {
      seen.push(info);
      return verdict;
    },
  });
  try {
    const limited = await fetch(`${h.url}/api/connection`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '13');
    assert.deepEqual(await limited.json(), {
      error: 'Too Many Requests',
      message: 'too many requests from 203.0.113.7',
      reason: 'rate-limit',
      statusCode: 429,
    });
    assert.equal(seen[0]!.client.address, '203.0.113.7', 'the policy sees the resolved client');

    verdict = refuse('banned', 'banned', false);
    const banned = await fetch(`${h.url}/api/connection`);
    assert.equal(banned.status, 403);
    assert.equal(banned.headers.get('retry-after'), null);

    verdict = { kind: 'delay', ms: 150, reason: 'slow' };
    const started = Date.now();
    const delayed = await fetch(`${h.url}/api/connection`);
    assert.equal(delayed.status, 200);
    assert.ok(Date.now() - started >= 140);
  } finally {
    await h.close();
  }
});

test('bad requests get 400 and the app keeps serving', async () => {
  const h = await harness();
  try {
    const garbage = await raw(h.port, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const badHeader = await raw(h.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.match(badHeader, /^HTTP\/1\.1 400 /);
    const badUrl = await raw(h.port, 'GET /api/connection%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(badUrl, /^HTTP\/1\.1 (400|404) /);
    const huge = await raw(h.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    const ok = await fetch(`${h.url}/healthz`);
    assert.equal(ok.status, 200);
  } finally {
    await h.close();
  }
});

test('a client that never finishes its request head gets 408 (the server is never listen()ed)', async () => {
  const h = await harness({ headersTimeoutMs: 300 });
  try {
    const started = Date.now();
    const text = await raw(h.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - started < 2500);
  } finally {
    await h.close();
  }
});

test('a resolveClient that throws does not take the request down: the connection is used', async () => {
  const h = await harness({
    resolveClient: () => {
      throw new Error('boom');
    },
  });
  try {
    const res = await fetch(`${h.url}/api/connection`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.client, h.infos[0]!.client);
  } finally {
    await h.close();
  }
});

test('TLS sockets from the listener are served, and their TLS state is reported', async () => {
  // openssl is a test dependency (.ci/run installs it).
  const dir = mkdtempSync(join(tmpdir(), 'portico-http-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'));
  const cert = readFileSync(join(dir, 'cert.pem'));
  rmSync(dir, { recursive: true, force: true });
  const app = await createHttpApp({ publicUrl: 'https://localhost', resolveClient, logger });
  const front = createTlsServer({ key, cert }, (socket: TLSSocket) => {
    const info = connectionInfoFor(socket, undefined, { terminatedBy: 'server', version: socket.getProtocol() ?? undefined });
    app.handleConnection(socket, info, logger);
  });
  const port = await listen(front);
  try {
    const body = await new Promise<Record<string, unknown>>((resolve, reject) => {
      import('node:https').then(({ get }) => {
        get({ host: '127.0.0.1', port, path: '/api/connection', rejectUnauthorized: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
        }).on('error', reject);
      }, reject);
    });
    assert.equal((body.tls as TlsState).terminatedBy, 'server');
    assert.match(String((body.tls as TlsState).version), /^TLSv1\.[23]$/);
  } finally {
    await app.close();
    front.close();
  }
});

test('close(): idle keep-alive connections end, new connections are refused', async () => {
  const h = await harness({ closeGraceMs: 2000 });
  const socket = connect(h.port, '127.0.0.1');
  socket.setEncoding('utf8');
  let text = '';
  socket.on('data', (c: string) => (text += c));
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => text.includes('{"status":"ok"}'));
  assert.equal(h.app.openConnections, 1);
  const closedSocket = once(socket, 'close');
  const started = Date.now();
  await h.close();
  await closedSocket;
  assert.ok(Date.now() - started < 1500, 'idle connections do not wait for the grace period');
  assert.equal(h.app.openConnections, 0);
  // A socket handed over after close() is destroyed at once.
  const lateFront = createNetServer((s) => h.app.handleConnection(s, connectionInfoFor(s, undefined, null), logger));
  const latePort = await listen(lateFront);
  const late = await raw(latePort, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(late, '');
  lateFront.close();
});

test('options are validated with PORTICO_ERR_HTTP_* errors', async () => {
  const base = { publicUrl: 'http://localhost:8080', resolveClient, logger };
  const codeOf = async (options: HttpAppOptions) => {
    try {
      await createHttpApp(options);
      return 'no error';
    } catch (error) {
      assert.ok(error instanceof PorticoError);
      return error.code;
    }
  };
  assert.equal(await codeOf({ ...base, publicUrl: 'localhost:8080' }), 'PORTICO_ERR_HTTP_PUBLIC_URL');
  assert.equal(await codeOf({ ...base, publicUrl: 'ftp://x' }), 'PORTICO_ERR_HTTP_PUBLIC_URL');
  for (const prefix of ['webmail', '/', '/webmail/', '/healthz', '/api', '/api/connection/x', '/a*b']) {
    assert.equal(await codeOf({ ...base, routes: [{ prefix, upstream: 'http://127.0.0.1:9000' }] }), 'PORTICO_ERR_HTTP_ROUTE_PREFIX', prefix);
  }
  assert.equal(
    await codeOf({ ...base, routes: [{ prefix: '/a', upstream: 'http://127.0.0.1:9000' }, { prefix: '/A', upstream: 'http://127.0.0.1:9001' }] }),
    'PORTICO_ERR_HTTP_ROUTE_PREFIX',
  );
  assert.equal(await codeOf({ ...base, routes: [{ prefix: '/webmail', upstream: '127.0.0.1:9000' }] }), 'PORTICO_ERR_HTTP_ROUTE_UPSTREAM');
});
