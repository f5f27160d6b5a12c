import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freezeConnectionInfo, withTls } from './connection.ts';
import type { ConnectionInfo } from './connection.ts';

const endpoint = (address: string, port: number) => ({ address, port });

function description(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    id: 'c1', listener: 'smtp', client: endpoint('192.0.2.7', 40000), server: endpoint('127.0.0.1', 2525),
    peer: endpoint('127.0.0.1', 5000), via: 'proxy-v2', tls: null, peerIsTrustedProxy: true, openedAt: 0, ...overrides,
  };
}

test('a connection description is frozen through and through, whether its client is its peer or not', () => {
  const proxied = freezeConnectionInfo(description({ tls: { terminatedBy: 'proxy' }, proxy: { uniqueId: 'u1' } }));
  for (const part of [proxied, proxied.client, proxied.server, proxied.peer, proxied.tls, proxied.proxy]) assert.ok(Object.isFrozen(part));
  const peer = endpoint('192.0.2.9', 41000);
  const direct = freezeConnectionInfo(description({ client: peer, peer, via: 'direct', peerIsTrustedProxy: false }));
  for (const part of [direct, direct.client, direct.server, direct.peer]) assert.ok(Object.isFrozen(part));
  assert.throws(() => {
    (direct.peer as { port: number }).port = 1;
  }, TypeError);
  const upgraded = withTls(direct, { terminatedBy: 'server', version: 'TLSv1.3' });
  assert.ok(Object.isFrozen(upgraded) && Object.isFrozen(upgraded.tls));
  assert.equal(upgraded.client, direct.client);
});
