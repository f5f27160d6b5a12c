// Socket tests of the listener with real `net`/`tls` clients on loopback (127.0.0.x sources).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import { Duplex, Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { NetworkList, ALLOW, refuse } from '@portico/core';
import type { AcceptedConnection, SecurityEvent, Verdict, ConnectionInfo } from '@portico/core';
import { startListener } from './listener.ts';
import type { ListenerOptions, RunningListener } from './options.ts';

const certDir = mkdtempSync(join(tmpdir(), 'portico-listener-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=mail.example.test', '-days', '2', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
const secureContext = tls.createSecureContext({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) });

const ERRORS = {
  proxyTimeout: '421 4.4.2 PROXY timeout\r\n',
  proxyRefused: '421 4.7.0 PROXY refused\r\n',
  tooManyConnections: '421 4.7.0 too many\r\n',
  refused: (message: string) => `421 4.7.0 ${message}\r\n`,
};

interface Harness {
  listener: RunningListener;
  port: number;
  connections: AcceptedConnection[];
  nextConnection(): Promise<AcceptedConnection>;
  events: SecurityEvent[];
  logs: Record<string, unknown>[];
}

const running: RunningListener[] = [];
after(async () => {
  for (const l of running) {
    l.closeAll();
    await l.stopAccepting();
  }
});

async function harness(overrides: {
  mode?: ListenerOptions['proxy']['mode'];
  trusted?: string[];
  timeoutMs?: number;
  implicit?: boolean;
  terminatedByProxy?: boolean;
  maxPerIp?: number;
  admit?: (info: ConnectionInfo) => Verdict | Promise<Verdict>;
  bind?: string;
  clientSpeaksFirst?: boolean;
  /** What the protocol does with a connection; default: a banner with the client address, then echo. */
  onConnection?: (conn: AcceptedConnection) => void;
}): Promise<Harness> {
  const connections: AcceptedConnection[] = [];
  const waiters: ((c: AcceptedConnection) => void)[] = [];
  const events: SecurityEvent[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(JSON.parse(chunk.toString()));
        cb();
      },
    }),
  );
  const listener = await startListener({
    id: 'test',
    bind: [overrides.bind ?? '127.0.0.1:0'],
    proxy: {
      mode: overrides.mode ?? 'proxy-protocol',
      trustedNetworks: NetworkList.parse(overrides.trusted ?? ['127.0.0.1']),
      timeoutMs: overrides.timeoutMs ?? 5000,
    },
    tls: { implicit: overrides.implicit ?? false, terminatedByProxy: overrides.terminatedByProxy ?? false, secureContext },
    maxConnections: 100,
    maxConnectionsPerIp: overrides.maxPerIp ?? 50,
    errors: ERRORS,
    logger,
    events: { report: (e) => events.push(e) },
    ...(overrides.admit ? { admit: overrides.admit } : {}),
    ...(overrides.clientSpeaksFirst ? { clientSpeaksFirst: true } : {}),
    onConnection(conn) {
      connections.push(conn);
      (overrides.onConnection ?? banner)(conn);
      waiters.shift()?.(conn);
    },
  });
  running.push(listener);
  return {
    listener,
    port: listener.addresses[0]!.port,
    connections,
    events,
    logs,
    nextConnection: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

function banner(conn: AcceptedConnection): void {
  conn.socket.write(`220 hello ${conn.info.client.address}\r\n`);
  conn.socket.on('data', (chunk: Buffer) => conn.socket.write(`echo ${chunk.toString('latin1')}`));
}

function open(port: number, localAddress = '127.0.0.1', host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function readAll(socket: Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
}

/** Resolves once the received text contains `needle`. */
function waitFor(socket: Socket | tls.TLSSocket, needle: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes(needle)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before "${needle}"; got ${JSON.stringify(text)}`)));
  });
}

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}
function v2Header(options: { command?: 'PROXY' | 'LOCAL'; src?: [string, number]; dst?: [string, number]; tlvs?: Buffer[] }): Buffer {
  const command = options.command === 'LOCAL' ? 0x20 : 0x21;
  const [srcIp, srcPort] = options.src ?? ['192.0.2.33', 43210];
  const [dstIp, dstPort] = options.dst ?? ['192.0.2.25', 25];
  const addresses = Buffer.alloc(12);
  srcIp.split('.').forEach((octet, i) => (addresses[i] = Number(octet)));
  dstIp.split('.').forEach((octet, i) => (addresses[4 + i] = Number(octet)));
  addresses.writeUInt16BE(srcPort, 8);
  addresses.writeUInt16BE(dstPort, 10);
  const body = Buffer.concat([addresses, ...(options.tlvs ?? [])]);
  const fixed = Buffer.alloc(4);
  fixed[0] = command;
  fixed[1] = 0x11;
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, fixed, body]);
}

test('direct client on a listener that trusts nobody: client is the socket peer, via direct', async () => {
  const h = await harness({ mode: 'none', trusted: [] });
  const socket = await open(h.port, '127.0.0.5');
  assert.equal(await waitFor(socket, '\r\n'), '220 hello 127.0.0.5\r\n');
  const info = h.connections[0]!.info;
  assert.equal(info.via, 'direct');
  assert.deepEqual([info.client.address, info.peer.address, info.tls], ['127.0.0.5', '127.0.0.5', null]);
  assert.ok(Object.isFrozen(info) && Object.isFrozen(info.client));
  socket.destroy();
});

test('PROXY v1 header and pipelined data in one write: client from the header, nothing lost', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const seen = waitFor(socket, 'echo EHLO client.example.test\r\n');
  socket.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\nEHLO client.example.test\r\n');
  assert.equal(await seen, '220 hello 192.0.2.7\r\necho EHLO client.example.test\r\n');
  const info = h.connections[0]!.info;
  assert.equal(info.via, 'proxy-v1');
  assert.deepEqual(info.client, { address: '192.0.2.7', port: 40000 });
  assert.deepEqual(info.server, { address: '192.0.2.25', port: 25 });
  assert.equal(info.peer.address, '127.0.0.1');
  assert.equal(info.peerIsTrustedProxy, true);
  socket.destroy();
});

test('PROXY v2 header one byte at a time', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const header = v2Header({ src: ['192.0.2.44', 1234] });
  const greeting = waitFor(socket, '\r\n');
  for (const byte of header) socket.write(Buffer.from([byte]));
  assert.equal(await greeting, '220 hello 192.0.2.44\r\n');
  assert.equal(h.connections[0]!.info.via, 'proxy-v2');
  socket.destroy();
});

test('a trusted peer that sends half a header gets no banner, then the timeout error and one clear log line', async () => {
  const h = await harness({ timeoutMs: 150 });
  const socket = await open(h.port);
  const received = readAll(socket);
  socket.write('PROXY TCP4 192.0.2.7');
  assert.equal(await received, ERRORS.proxyTimeout);
  assert.equal(h.connections.length, 0);
  const line = h.logs.find((l) => String(l.msg).startsWith('no PROXY protocol header'));
  assert.ok(line, 'a log line about the missing header');
  assert.equal(line.level, 40);
  assert.match(String(line.msg), /from trusted peer 127\.0\.0\.1 within 150ms: listener "test" expects one/);
  assert.match(String(line.msg), /send-proxy/);
});

test('a trusted peer that sends no header at all gets the timeout error (nothing hangs)', async () => {
  const h = await harness({ timeoutMs: 100 });
  const socket = await open(h.port);
  assert.equal(await readAll(socket), ERRORS.proxyTimeout);
});

/** Resolves with the first log line that matches, already written or yet to come. */
function logged(h: Harness, matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const found = h.logs.find(matches);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const push = h.logs.push.bind(h.logs);
    h.logs.push = (...lines) => {
      const count = push(...lines);
      const hit = lines.find(matches);
      if (hit) {
        h.logs.push = push;
        resolve(hit);
      }
      return count;
    };
  });
}

test('a trusted peer that closes before its header is complete: logged at debug, counted out, never timed out later', { timeout: 10_000 }, async () => {
  const h = await harness({ timeoutMs: 150 });
  const early = await open(h.port);
  const earlyPort = early.localPort;
  early.end('PROXY TCP4 192.0.2.7');
  const line = await logged(h, (l) => l.msg === 'trusted peer closed the connection before a PROXY header');
  assert.equal(line.level, 20);
  assert.equal(line.peer, `127.0.0.1:${earlyPort}`);
  assert.equal(h.listener.activeConnections, 0);
  // Deadlines expire in the order they were set: once a later connection is timed out, the early
  // one's deadline is past too, and it must not have fired.
  const late = await open(h.port);
  const latePort = late.localPort;
  assert.equal(await readAll(late), ERRORS.proxyTimeout);
  await h.listener.drained(); // the server's side of it has closed too
  const timedOut = h.logs.filter((l) => String(l.msg).startsWith('no PROXY protocol header'));
  assert.deepEqual(timedOut.map((l) => l.peer), [`127.0.0.1:${latePort}`]);
  // The late one's wait ended with its timeout: its close is not one more outcome.
  const closedEarly = h.logs.filter((l) => l.msg === 'trusted peer closed the connection before a PROXY header');
  assert.deepEqual(closedEarly.map((l) => l.peer), [`127.0.0.1:${earlyPort}`]);
  assert.equal(h.connections.length, 0);
});

test('a malformed header from a trusted peer is refused and the reason logged', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const localPort = socket.localPort;
  const received = readAll(socket);
  socket.write('PROXY TCP4 010.0.0.1 192.0.2.25 40000 25\r\n');
  assert.equal(await received, ERRORS.proxyRefused);
  const line = h.logs.find((l) => String(l.msg).startsWith('malformed PROXY header'));
  assert.ok(line && typeof line.reason === 'string' && line.reason.length > 0, JSON.stringify(h.logs));
  assert.equal(line.peer, `127.0.0.1:${localPort}`);
});

test('a PROXY header from an untrusted peer is never honoured: refused, logged, reported as a scan', async () => {
  const h = await harness({ trusted: ['127.0.0.2'] });
  const socket = await open(h.port, '127.0.0.9');
  const received = readAll(socket);
  await waitFor(socket, '220 hello 127.0.0.9\r\n');
  socket.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
  assert.equal(await received, `220 hello 127.0.0.9\r\n${ERRORS.proxyRefused}`);
  assert.equal(h.events.length, 1);
  assert.equal(h.events[0]!.kind, 'scan');
  assert.equal(h.events[0]!.reason, 'untrusted-proxy-header');
  assert.equal(h.events[0]!.connection.client.address, '127.0.0.9');
  assert.ok(h.logs.some((l) => /untrusted peer 127\.0\.0\.9/.test(String(l.msg))));
});

test('after a refused untrusted header nothing the peer sends reaches the protocol', async () => {
  const h = await harness({ trusted: ['127.0.0.2'] });
  const socket = await open(h.port, '127.0.0.9');
  const received = readAll(socket);
  await waitFor(socket, '220 hello 127.0.0.9\r\n');
  socket.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\nMAIL FROM:<a@example.test>\r\n');
  assert.equal(await received, `220 hello 127.0.0.9\r\n${ERRORS.proxyRefused}`);
  assert.equal(h.events.length, 1);
});

test('client-speaks-first listener (HTTP): an untrusted header is refused before the protocol gets the socket', async () => {
  const h = await harness({ trusted: ['127.0.0.2'], clientSpeaksFirst: true });
  const socket = await open(h.port, '127.0.0.9');
  const received = readAll(socket);
  socket.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 80\r\nGET / HTTP/1.1\r\n\r\n');
  assert.equal(await received, ERRORS.proxyRefused);
  assert.equal(h.connections.length, 0);
  assert.deepEqual(h.events.map((e) => [e.kind, e.reason, e.connection.client.address]), [['scan', 'untrusted-proxy-header', '127.0.0.9']]);
});

test('client-speaks-first listener: a request starting "P" split over writes is handed over whole', async () => {
  const h = await harness({ trusted: ['127.0.0.2'], clientSpeaksFirst: true });
  const socket = await open(h.port, '127.0.0.9');
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.write('P', resolve)); // "P" on its own segment, as a slow client sends it
  const echoed = waitFor(socket, 'echo POST / HTTP/1.1\r\n');
  socket.write('OST / HTTP/1.1\r\n');
  await echoed;
  assert.equal(h.events.length, 0);
  socket.destroy();
});

test('an untrusted peer that speaks normally is served and its data is untouched', async () => {
  const h = await harness({ trusted: ['127.0.0.2'] });
  const socket = await open(h.port, '127.0.0.9');
  await waitFor(socket, '\r\n');
  const echoed = waitFor(socket, 'echo PROX-1 NOOP\r\n');
  socket.write('PROX-1 NOOP\r\n');
  await echoed;
  assert.equal(h.events.length, 0);
  socket.destroy();
});

test('LOCAL (health check): the connection is the proxy itself', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const greeting = waitFor(socket, '\r\n');
  socket.write(v2Header({ command: 'LOCAL' }));
  assert.equal(await greeting, '220 hello 127.0.0.1\r\n');
  const info = h.connections[0]!.info;
  assert.equal(info.via, 'proxy-v2-local');
  assert.equal(info.client.address, '127.0.0.1');
  socket.destroy();
});

test('PROXY over UNSPEC (the proxy\'s own connection): the socket addresses are used, nothing is lost', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const greeting = waitFor(socket, '\r\n');
  socket.write(Buffer.concat([SIG, Buffer.from([0x21, 0x00, 0x00, 0x00])]));
  assert.equal(await greeting, '220 hello 127.0.0.1\r\n');
  const info = h.connections[0]!.info;
  assert.equal(info.via, 'proxy-v2');
  assert.deepEqual([info.client.address, info.peer.address], ['127.0.0.1', '127.0.0.1']);
  assert.equal(h.events.length, 0);
  socket.destroy();
});

test('SSL TLV from a trusted proxy: TLS terminated by the proxy, with version, cipher and SNI', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const sslValue = Buffer.concat([
    Buffer.from([0x01, 0, 0, 0, 0]),
    tlv(0x21, Buffer.from('TLSv1.3')),
    tlv(0x23, Buffer.from('TLS_AES_256_GCM_SHA384')),
  ]);
  const greeting = waitFor(socket, '\r\n');
  socket.write(v2Header({ tlvs: [tlv(0x02, Buffer.from('mail.example.test')), tlv(0x20, sslValue), tlv(0x05, Buffer.from('abc-123'))] }));
  await greeting;
  const info = h.connections[0]!.info;
  assert.deepEqual(info.tls, { terminatedBy: 'proxy', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: 'mail.example.test' });
  assert.deepEqual(info.proxy, { uniqueId: 'abc-123', authority: 'mail.example.test' });
  socket.destroy();
});

test('an SSL TLV without the SSL client flag is not encryption', async () => {
  const h = await harness({});
  const socket = await open(h.port);
  const greeting = waitFor(socket, '\r\n');
  socket.write(v2Header({ tlvs: [tlv(0x20, Buffer.from([0x00, 0, 0, 0, 0]))] }));
  await greeting;
  assert.equal(h.connections[0]!.info.tls, null);
  socket.destroy();
});

test('tls.terminated-by-proxy counts only for trusted peers', async () => {
  const h = await harness({ terminatedByProxy: true, trusted: ['127.0.0.1'] });
  const proxied = await open(h.port);
  const greeting = waitFor(proxied, '\r\n');
  proxied.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
  await greeting;
  assert.deepEqual(h.connections[0]!.info.tls, { terminatedBy: 'proxy' });
  const direct = await open(h.port, '127.0.0.9');
  await waitFor(direct, '\r\n');
  assert.equal(h.connections[1]!.info.tls, null);
  proxied.destroy();
  direct.destroy();
});

/** A transport for tls.connect whose first write carries `prefix` and the ClientHello together. */
class PrefixFirstWrite extends Duplex {
  readonly #socket: Socket;
  #prefix: Buffer | undefined;
  constructor(socket: Socket, prefix: Buffer) {
    super();
    this.#socket = socket;
    this.#prefix = prefix;
    socket.on('data', (c) => this.push(c));
    socket.on('end', () => this.push(null));
  }
  override _read() {}
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void) {
    const data = this.#prefix ? Buffer.concat([this.#prefix, chunk]) : chunk;
    this.#prefix = undefined;
    this.#socket.write(data, cb);
  }
  override _destroy(e: Error | null, cb: (e?: Error | null) => void) {
    this.#socket.destroy();
    cb(e);
  }
}

test('implicit TLS: PROXY header and ClientHello in one write complete the handshake', async () => {
  const h = await harness({ implicit: true });
  const raw = await open(h.port);
  const secured = tls.connect({ socket: new PrefixFirstWrite(raw, Buffer.from('PROXY TCP4 192.0.2.8 192.0.2.25 40000 465\r\n')) as unknown as Socket, rejectUnauthorized: false, servername: 'mail.example.test' });
  assert.equal(await waitFor(secured, '\r\n'), '220 hello 192.0.2.8\r\n');
  const info = h.connections[0]!.info;
  assert.equal(info.via, 'proxy-v1');
  assert.equal(info.tls?.terminatedBy, 'server');
  assert.match(info.tls?.version ?? '', /^TLSv1\.[23]$/);
  assert.equal(info.tls?.sni, 'mail.example.test');
  const echoed = waitFor(secured, 'echo NOOP\r\n');
  secured.write('NOOP\r\n');
  await echoed;
  secured.destroy();
});

test('implicit TLS: the header in its own segment, then the handshake', async () => {
  const h = await harness({ implicit: true });
  const raw = await open(h.port);
  raw.write(v2Header({ src: ['192.0.2.9', 5555] }));
  const secured = tls.connect({ socket: raw, rejectUnauthorized: false });
  assert.equal(await waitFor(secured, '\r\n'), '220 hello 192.0.2.9\r\n');
  assert.equal(h.connections[0]!.info.tls?.terminatedBy, 'server');
  secured.destroy();
});

test('implicit TLS: an untrusted peer sending a PROXY header is refused before the handshake', async () => {
  const h = await harness({ implicit: true, trusted: ['127.0.0.2'] });
  const raw = await open(h.port, '127.0.0.9');
  const received = readAll(raw);
  raw.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 465\r\n');
  assert.equal(await received, ERRORS.proxyRefused);
  assert.equal(h.events[0]?.reason, 'untrusted-proxy-header');
});

test('STARTTLS hands out a new ConnectionInfo and leaves the old one unchanged', async () => {
  const upgraded: AcceptedConnection[] = [];
  const h = await harness({
    onConnection(conn) {
      conn.socket.write('220 ready\r\n');
      conn.socket.once('data', async () => {
        conn.socket.write('220 go ahead\r\n');
        const next = await conn.startTls!();
        upgraded.push(next);
        next.socket.write(`250 secured for ${next.info.client.address}\r\n`);
      });
    },
  });
  const raw = await open(h.port);
  raw.write('PROXY TCP4 192.0.2.10 192.0.2.25 40000 25\r\n');
  await waitFor(raw, '220 ready\r\n');
  const goAhead = waitFor(raw, '220 go ahead\r\n');
  raw.write('STARTTLS\r\n');
  await goAhead;
  raw.removeAllListeners('data');
  const secured = tls.connect({ socket: raw, rejectUnauthorized: false });
  assert.equal(await waitFor(secured, '\r\n'), '250 secured for 192.0.2.10\r\n');
  const before = h.connections[0]!.info;
  const after = upgraded[0]!.info;
  assert.equal(before.tls, null);
  assert.equal(after.tls?.terminatedBy, 'server');
  assert.equal(after.id, before.id);
  assert.equal(after.client.address, '192.0.2.10');
  secured.destroy();
});

test('max-connections-per-ip counts the real client, not the proxy', async () => {
  const h = await harness({ maxPerIp: 1 });
  const first = await open(h.port);
  const g1 = waitFor(first, '\r\n');
  first.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
  await g1;
  const other = await open(h.port);
  const g2 = waitFor(other, '\r\n');
  other.write('PROXY TCP4 192.0.2.8 192.0.2.25 40001 25\r\n');
  assert.equal(await g2, '220 hello 192.0.2.8\r\n');
  const same = await open(h.port);
  const refused = readAll(same);
  same.write('PROXY TCP4 192.0.2.7 192.0.2.25 40002 25\r\n');
  assert.equal(await refused, ERRORS.tooManyConnections);
  first.destroy();
  other.destroy();
});

test('max-connections-per-ip never counts the trusted proxy speaking for itself (LOCAL health checks, UNSPEC)', async () => {
  const h = await harness({ maxPerIp: 1 });
  const sockets = [];
  for (const header of [v2Header({ command: 'LOCAL' }), v2Header({ command: 'LOCAL' }), Buffer.concat([SIG, Buffer.from([0x21, 0x00, 0x00, 0x00])])]) {
    const socket = await open(h.port);
    const greeting = waitFor(socket, '\r\n');
    socket.write(header);
    assert.equal(await greeting, '220 hello 127.0.0.1\r\n');
    sockets.push(socket);
  }
  // A direct (untrusted) client is still counted: 127.0.0.9 gets one connection.
  const untrusted = await harness({ maxPerIp: 1, trusted: ['127.0.0.2'] });
  const a = await open(untrusted.port, '127.0.0.9');
  assert.equal(await waitFor(a, '\r\n'), '220 hello 127.0.0.9\r\n');
  const b = await open(untrusted.port, '127.0.0.9');
  assert.equal(await readAll(b), ERRORS.tooManyConnections);
  for (const socket of [...sockets, a]) socket.destroy();
});

test('admission runs on the real client and refuses before the greeting', async () => {
  const h = await harness({ admit: (info) => (info.client.address === '192.0.2.66' ? refuse('banned', 'You are banned', false) : ALLOW) });
  const banned = await open(h.port);
  const received = readAll(banned);
  banned.write('PROXY TCP4 192.0.2.66 192.0.2.25 40000 25\r\n');
  assert.equal(await received, '421 4.7.0 You are banned\r\n');
  assert.equal(h.connections.length, 0);
});

test('an asynchronous verdict: what the client sends while it is awaited reaches the protocol after the greeting', async () => {
  // The server's side of the connection, to see when the client's bytes have been read from the kernel.
  let serverSide: Socket | undefined;
  const onAccepted = (message: unknown) => void (serverSide = (message as { socket: Socket }).socket);
  diagnostics_channel.subscribe('net.server.socket', onAccepted);
  try {
    let decide: ((verdict: Verdict) => void) | undefined;
    let asked!: () => void;
    const admitAsked = new Promise<void>((resolve) => (asked = resolve));
    const h = await harness({
      admit: () => new Promise<Verdict>((resolve) => {
        decide = resolve;
        asked();
      }),
    });
    const socket = await open(h.port);
    const received = waitFor(socket, 'echo EHLO client.example.test\r\n');
    const header = 'PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n';
    const early = 'EHLO client.example.test\r\n';
    socket.write(header);
    await admitAsked;
    socket.write(early);
    while ((serverSide?.bytesRead ?? 0) < header.length + early.length) await new Promise(setImmediate);
    decide!(ALLOW);
    assert.equal(await received, '220 hello 192.0.2.7\r\necho EHLO client.example.test\r\n');
    socket.destroy();
  } finally {
    diagnostics_channel.unsubscribe('net.server.socket', onAccepted);
  }
});

test('IPv6 peers and canonical addresses', async () => {
  const h = await harness({ bind: '[::1]:0', trusted: ['::1'] });
  const socket = await open(h.port, '::1', '::1');
  const greeting = waitFor(socket, '\r\n');
  socket.write('PROXY TCP6 2001:db8::7 2001:db8::25 40000 25\r\n');
  assert.equal(await greeting, '220 hello 2001:db8::7\r\n');
  assert.equal(h.connections[0]!.info.peer.address, '::1');
  socket.destroy();
});

/** A client of a proxy (PROXY v1 from 192.0.2.7:40000), once the protocol has greeted it. */
async function greetedThroughProxyV1(h: Harness): Promise<{ socket: Socket; conn: AcceptedConnection }> {
  const socket = await open(h.port);
  const greeting = waitFor(socket, '\r\n');
  socket.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
  await greeting;
  return { socket, conn: h.connections[0]! };
}

test('open and close are logged with id, listener, client, peer, duration and bytes', async () => {
  const h = await harness({});
  const { socket, conn } = await greetedThroughProxyV1(h);
  conn.onClose('quit');
  const closed = new Promise((r) => conn.socket.once('close', r));
  socket.end();
  await closed;
  const opened = h.logs.find((l) => l.msg === 'connection open')!;
  const closedLine = h.logs.find((l) => l.msg === 'connection closed')!;
  for (const line of [opened, closedLine]) {
    assert.equal(line.conn, conn.info.id);
    assert.equal(line.listener, 'test');
    assert.equal(line.client, '192.0.2.7:40000');
    assert.equal(line.via, 'proxy-v1');
  }
  assert.equal(closedLine.reason, 'quit');
  assert.equal(typeof closedLine.durationMs, 'number');
  assert.ok((closedLine.bytesIn as number) > 40);
});

/** Resolves with the event names still listened for on the protocol's socket once it has closed. */
function listenersLeftAfterClose(conn: AcceptedConnection): Promise<string[]> {
  return new Promise((resolve) => conn.socket.once('close', () => setImmediate(() => resolve(conn.socket.eventNames().map(String)))));
}

test('a closed connection lets go of every listener on its socket, and the protocol still hears "close"', async () => {
  // Its handle keeps a closed socket until a full garbage collection: whatever its listeners hold
  // (the protocol's session, the logger) must not be kept with it.
  const h = await harness({});
  const { socket, conn } = await greetedThroughProxyV1(h);
  assert.ok(conn.socket.listenerCount('data') > 0 && conn.socket.listenerCount('close') > 0, 'the protocol and the listener listen while it is open');
  const left = listenersLeftAfterClose(conn);
  socket.end();
  assert.deepEqual(await left, [], 'no listener is left once "close" has been emitted');
  assert.equal(h.logs.filter((l) => l.msg === 'connection closed').length, 1);
});

test('implicit TLS: the TLS socket lets go of its listeners once closed too', async () => {
  const h = await harness({ implicit: true });
  const raw = await open(h.port);
  const secured = tls.connect({ socket: new PrefixFirstWrite(raw, Buffer.from('PROXY TCP4 192.0.2.8 192.0.2.25 40000 465\r\n')) as unknown as Socket, rejectUnauthorized: false });
  await waitFor(secured, '\r\n');
  const conn = h.connections[0]!;
  assert.ok(conn.socket.listenerCount('data') > 0, 'the protocol listens while it is open');
  const left = listenersLeftAfterClose(conn);
  secured.end();
  assert.deepEqual(await left, []);
});

test('a protocol that throws while taking a connection: that connection is closed and logged with its peer, the listener goes on', async () => {
  let calls = 0;
  const h = await harness({
    onConnection(conn) {
      if (++calls === 1) throw new Error('protocol bug');
      banner(conn);
    },
  });
  const first = await open(h.port);
  const clientPort = first.localPort;
  const ended = readAll(first);
  first.write('PROXY TCP4 192.0.2.7 192.0.2.25 40000 25\r\n');
  assert.equal(await ended, '', 'closed without a word');
  const line = h.logs.find((l) => l.msg === 'connection setup failed')!;
  assert.equal(line.peer, `127.0.0.1:${clientPort}`);
  assert.equal((line.err as { message: string }).message, 'protocol bug');
  const second = await open(h.port);
  const greeting = waitFor(second, '\r\n');
  second.write('PROXY TCP4 192.0.2.8 192.0.2.25 40000 25\r\n');
  assert.equal(await greeting, '220 hello 192.0.2.8\r\n');
  second.destroy();
});
