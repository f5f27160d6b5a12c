import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionLogger } from './connection-logger.ts';
import { testParentLogger } from './test-support.ts';
import { connectionLogFields, freezeConnectionInfo, tlsLogText } from './connection.ts';
import type { ConnectionInfo } from './connection.ts';

function info(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return freezeConnectionInfo({
    id: 'a1b2c3-1f', listener: 'submission', client: { address: '2001:db8::7', port: 40000 }, server: { address: '127.0.0.1', port: 587 },
    peer: { address: '127.0.0.1', port: 5000 }, via: 'proxy-v2', tls: { terminatedBy: 'proxy', version: 'TLSv1.3' },
    peerIsTrustedProxy: true, openedAt: 0, ...overrides,
  });
}

/** Logs the same two lines (one plain, one with fields) through pino's child and through ours. */
function bothWays(connection: ConnectionInfo): { pinos: string[]; ours: string[] } {
  const viaPino = testParentLogger({}, { listenerGroup: 'smtp' });
  const viaOurs = testParentLogger({}, { listenerGroup: 'smtp' });
  for (const [log, lines] of [
    [viaPino.parent.child(connectionLogFields(connection)), viaPino.lines],
    [connectionLogger(viaOurs.parent, connection), viaOurs.lines],
  ] as const) {
    log.info('connection open');
    log.info({ durationMs: 3, bytesIn: 28, bytesOut: 0, reason: 'closed', password: 'secret' }, 'connection closed');
    assert.equal(lines.length, 2);
  }
  return { pinos: viaPino.lines, ours: viaOurs.lines };
}

test("a connection's logger writes exactly the lines pino's child() with connectionLogFields writes", () => {
  const { pinos, ours } = bothWays(info());
  assert.deepEqual(ours, pinos);
  assert.deepEqual(JSON.parse(ours[0]!), {
    level: 30, time: 0, app: 'portico', listenerGroup: 'smtp', conn: 'a1b2c3-1f', listener: 'submission',
    client: '2001:db8::7:40000', peer: '127.0.0.1:5000', via: 'proxy-v2', tls: 'proxy TLSv1.3', msg: 'connection open',
  });
  assert.equal(JSON.parse(ours[1]!).password, '[Redacted]', "the parent's redaction still applies to what is logged");
});

test('text that needs escaping (quotes, backslashes, control characters, non-ASCII) is escaped as pino escapes it', () => {
  const odd = info({
    id: 'id"1',
    listener: 'a\\b\n"c"',
    client: { address: 'föö\u0001', port: 1 },
    tls: { terminatedBy: 'proxy', version: 'TLS "1.3"\u007f\ud800' },
  });
  const { pinos, ours } = bothWays(odd);
  assert.deepEqual(ours, pinos);
  const fields = JSON.parse(ours[0]!);
  assert.equal(fields.listener, 'a\\b\n"c"');
  assert.equal(fields.client, 'föö\u0001:1');
  assert.equal(fields.tls, 'proxy TLS "1.3"\u007f\ud800');
});

test("a plain connection reads tls none; the logger's level, bindings() and children work as pino's do", () => {
  const { parent, lines } = testParentLogger({}, { listenerGroup: 'smtp' });
  const log = connectionLogger(parent, info({ tls: null, via: 'direct' }));
  assert.equal(log.bindings().tls, 'none');
  assert.equal(log.bindings().via, 'direct');
  log.debug('not written at info');
  log.child({ command: 'EHLO' }).warn('child of a connection');
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!);
  assert.equal(line.conn, 'a1b2c3-1f');
  assert.equal(line.command, 'EHLO');
  parent.level = 'debug';
  log.debug('written once the parent is at debug');
  assert.equal(lines.length, 2, 'the level is the parent\'s, as for a child');
});

test("setBindings, a child with its own level, and loggers of two parents in turn work as pino's children do", () => {
  const first = testParentLogger({}, { listenerGroup: 'smtp' });
  const second = testParentLogger({}, { listenerGroup: 'imap' });
  const viaPino = testParentLogger({}, { listenerGroup: 'smtp' });
  // Made one after the other from two parents: each keeps its own parent's bindings and level.
  const ours = connectionLogger(first.parent, info());
  const other = connectionLogger(second.parent, info({ id: 'other-1' }));
  const pinos = viaPino.parent.child(connectionLogFields(info()));
  for (const log of [ours, pinos]) {
    log.child({ command: 'AUTH' }, { level: 'debug' }).debug('child at debug');
    log.setBindings({ user: 'ann' });
    log.info('after setBindings');
  }
  other.info('from the other listener');
  assert.deepEqual(first.lines, viaPino.lines);
  assert.equal(JSON.parse(first.lines[0]!).command, 'AUTH');
  assert.equal(JSON.parse(first.lines[1]!).user, 'ann');
  assert.deepEqual(
    [JSON.parse(second.lines[0]!).listenerGroup, JSON.parse(second.lines[0]!).conn],
    ['imap', 'other-1'],
  );
});

test('connections of different listeners, ways in and TLS states, in turn, each log their own bindings', () => {
  const connections = [
    info({ via: 'direct', tls: null }),
    info({ via: 'proxy-v1', tls: null, listener: 'imap' }),
    info({ via: 'direct', tls: null, id: 'x2' }),
    info({ via: 'proxy-v2', tls: { terminatedBy: 'server', version: 'TLSv1.2' } }),
    info({ via: 'proxy-v1', tls: null, listener: 'submission' }),
  ];
  for (const connection of [...connections, ...connections]) {
    const { pinos, ours } = bothWays(connection);
    assert.deepEqual(ours, pinos);
    const fields = JSON.parse(ours[0]!);
    assert.deepEqual([fields.listener, fields.via, fields.tls], [connection.listener, connection.via, tlsLogText(connection.tls)]);
  }
});
