// The server end of ConnectionInfo and the per-connection bookkeeping, which the listener takes
// shortcuts for (the bind's address instead of getsockname; one 'close' listener for everything).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import { NetworkList } from '@portico/core';
import type { AcceptedConnection } from '@portico/core';
import { startListener } from './listener.ts';
import type { ListenerOptions, RunningListener } from './options.ts';

const running: RunningListener[] = [];
after(async () => {
  for (const l of running) {
    l.closeAll();
    await l.stopAccepting();
  }
});

async function listen(bind: string, mode: ListenerOptions['proxy']['mode'] = 'none', maxConnectionsPerIp = 50) {
  const connections: AcceptedConnection[] = [];
  const waiters: ((c: AcceptedConnection) => void)[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => cb(void logs.push(JSON.parse(chunk.toString()))) }));
  const listener = await startListener({
    id: 'local-end',
    bind: [bind],
    proxy: { mode, trustedNetworks: NetworkList.parse(['127.0.0.1']), timeoutMs: 5000 },
    tls: { implicit: false, terminatedByProxy: false },
    maxConnections: 100,
    maxConnectionsPerIp,
    errors: { proxyTimeout: 'timeout\r\n', proxyRefused: 'refused\r\n', tooManyConnections: 'too many\r\n', refused: (m) => `${m}\r\n` },
    logger,
    onConnection(conn) {
      connections.push(conn);
      conn.socket.write('220 hello\r\n');
      conn.socket.resume();
      waiters.shift()?.(conn);
    },
  });
  running.push(listener);
  return { listener, port: listener.addresses[0]!.port, logs, next: () => new Promise<AcceptedConnection>((r) => waiters.push(r)) };
}

function open(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, localAddress: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

test('a direct connection on a specific bind has the bind as its server end, as the socket says', async () => {
  const h = await listen('127.0.0.1:0');
  const accepted = h.next();
  const socket = await open(h.port);
  const conn = await accepted;
  assert.deepEqual(conn.info.server, { address: '127.0.0.1', port: h.port });
  assert.deepEqual(conn.info.server, { address: conn.socket.localAddress, port: conn.socket.localPort });
  assert.ok(Object.isFrozen(conn.info.server));
  socket.destroy();
});

test('a wildcard bind reports the address the client actually connected to', async () => {
  const h = await listen('0.0.0.0:0');
  const accepted = h.next();
  const socket = await open(h.port, '127.0.0.2'); // any 127/8 address reaches a wildcard bind on Linux
  const conn = await accepted;
  assert.deepEqual(conn.info.server, { address: '127.0.0.2', port: h.port });
  socket.destroy();
});

test('a PROXY header without addresses leaves the server end to the socket', async () => {
  const h = await listen('127.0.0.1:0', 'proxy-protocol');
  const accepted = h.next();
  const socket = await open(h.port);
  socket.write('PROXY UNKNOWN\r\n');
  const conn = await accepted;
  assert.deepEqual(conn.info.server, { address: '127.0.0.1', port: h.port });
  socket.destroy();
});

test('closing releases the total and per-IP counts and logs exactly one close line per connection', async () => {
  const h = await listen('127.0.0.1:0', 'none', 1);
  for (let i = 0; i < 3; i++) {
    // max-connections-per-ip is 1: each new connection is accepted only if the last one was released.
    const accepted = h.next();
    const socket = await open(h.port);
    const conn = await accepted;
    const serverClosed = once(conn.socket, 'close');
    socket.end();
    await serverClosed;
  }
  assert.equal(h.listener.activeConnections, 0);
  assert.equal(h.logs.filter((l) => l.msg === 'connection open').length, 3);
  assert.equal(h.logs.filter((l) => l.msg === 'connection closed').length, 3);
});

test('a closed connection releases its per-IP count exactly once (limit 2: A held, B closed, C in, D refused)', async () => {
  const h = await listen('127.0.0.1:0', 'none', 2);
  const held = h.next();
  const a = await open(h.port);
  await held;
  const second = h.next();
  const b = await open(h.port);
  const bConn = await second;
  const bClosed = once(bConn.socket, 'close');
  b.end();
  await bClosed;
  const third = h.next();
  const c = await open(h.port);
  await third;
  // A released twice would leave room for D as well.
  const d = await open(h.port);
  let refused = '';
  d.setEncoding('utf8');
  d.on('data', (text: string) => (refused += text));
  await once(d, 'close');
  assert.equal(refused, 'too many\r\n');
  a.destroy();
  c.destroy();
});
