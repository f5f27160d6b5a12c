// Interop with a real HAProxy 2.6 in front of the listener (issue 4, "How it must be shown").
// Each test starts its own HAProxy on loopback with a generated config; clients connect from
// 127.0.0.5 so that the client address differs from the proxy's 127.0.0.1. The listener trusts
// 127.0.0.1 only. The server side is the "info" test protocol (test/support/info-server.ts): it
// answers the ConnectionInfo the listener handed over, so each test asserts exactly what the server saw.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { makeSelfSignedCertificate } from './support/certs.ts';
import type { TestCertificate } from './support/certs.ts';
import { startHaproxy } from './support/haproxy.ts';
import type { HaproxyOptions } from './support/haproxy.ts';
import { LEVEL, queryInfo, startInfoServer } from './support/info-server.ts';
import type { InfoServer, InfoServerOptions } from './support/info-server.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { waitUntil } from './support/processes.ts';
import type { TestContext } from 'node:test';

const CLIENT = '127.0.0.5';
const PROXY = '127.0.0.1';

let serverCert: TestCertificate;
let clientCert: TestCertificate;

before(async () => {
  [serverCert, clientCert] = await Promise.all([
    makeSelfSignedCertificate('mail.example.test'),
    makeSelfSignedCertificate('client.example.test'),
  ]);
});
after(() => {
  serverCert?.remove();
  clientCert?.remove();
});

async function behindHaproxy(
  t: TestContext,
  haproxy: Omit<HaproxyOptions, 'backend'>,
  server: InfoServerOptions = {},
): Promise<{ info: InfoServer; proxy: Awaited<ReturnType<typeof startHaproxy>> }> {
  const info = stopAfter(t, await startInfoServer(server));
  const proxy = stopAfter(t, await startHaproxy({ ...haproxy, backend: { host: info.host, port: info.port } }));
  // On failure, what HAProxy and the listener said is the first thing one wants to read.
  explainOnFailure(t, 'haproxy config', () => proxy.config);
  explainOnFailure(t, 'haproxy output', () => proxy.output());
  explainOnFailure(t, 'listener log', () => info.logs.map((l) => JSON.stringify(l)).join('\n'));
  return { info, proxy };
}

function assertNothingWentWrong(info: InfoServer): void {
  assert.deepEqual(info.logsAtLeast(LEVEL.warn), [], 'no warn/error log lines');
  assert.deepEqual(info.events, [], 'no security events');
}

describe('HAProxy 2.6 -> listener (proxy-protocol, trusting 127.0.0.1)', () => {
  test('send-proxy (v1): client address and port are the HAProxy client\'s, peer is HAProxy', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, { serverOptions: 'send-proxy' });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.deepEqual(reply.info.server, { address: PROXY, port: proxy.port });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v1');
    assert.equal(reply.info.tls, null);
    assert.equal(reply.info.proxy, undefined);
    assert.equal(reply.info.peerIsTrustedProxy, true);
    assert.deepEqual(info.connections, [reply.info]);
    assertNothingWentWrong(info);
  }));

  test('send-proxy-v2: client address and port come from the v2 header', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, { serverOptions: 'send-proxy-v2' });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.deepEqual(reply.info.server, { address: PROXY, port: proxy.port });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v2');
    assert.equal(reply.info.tls, null);
    assert.equal(reply.info.proxy, undefined);
    assertNothingWentWrong(info);
  }));

  test('send-proxy-v2 with proxy-v2-options crc32c,unique-id (plain): unique id, no authority', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      serverOptions: 'send-proxy-v2 proxy-v2-options crc32c,unique-id',
      frontendLines: ['unique-id-format portico-%ci-%cp'],
    });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.via, 'proxy-v2');
    assert.equal(reply.info.tls, null);
    assert.deepEqual(reply.info.proxy, { uniqueId: `portico-${CLIENT}-${reply.localPort}` });
    assertNothingWentWrong(info);
  }));

  test('send-proxy-v2 with crc32c,unique-id,authority behind a TLS frontend: authority is the SNI, TLS not claimed without the SSL TLV', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      bindOptions: `ssl crt ${serverCert.combinedFile}`,
      serverOptions: 'send-proxy-v2 proxy-v2-options crc32c,unique-id,authority',
      frontendLines: ['unique-id-format portico-%ci-%cp'],
    });
    const reply = await queryInfo({
      host: proxy.host,
      port: proxy.port,
      localAddress: CLIENT,
      tls: { servername: 'mail.example.test' },
    });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v2');
    assert.deepEqual(reply.info.proxy, { uniqueId: `portico-${CLIENT}-${reply.localPort}`, authority: 'mail.example.test' });
    // No SSL TLV and the listener does not declare tls.terminated-by-proxy: not counted as encrypted.
    assert.equal(reply.info.tls, null);
    assertNothingWentWrong(info);
  }));

  test('send-proxy-v2-ssl, TLS 1.3 terminated at HAProxy: tls.terminatedBy proxy with the version from the SSL TLV', explained(async (t) => {
    // send-proxy-v2-ssl sends the SSL TLV with the VERSION sub-TLV only (the cipher needs ssl-cipher).
    const { info, proxy } = await behindHaproxy(t, {
      bindOptions: `ssl crt ${serverCert.combinedFile}`,
      serverOptions: 'send-proxy-v2-ssl',
    });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT, tls: {} });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.ok(reply.tlsSeen);
    assert.equal(reply.tlsSeen.version, 'TLSv1.3');
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v2');
    assert.deepEqual(reply.info.tls, { terminatedBy: 'proxy', version: 'TLSv1.3' });
    assert.equal(reply.info.proxy, undefined);
    assertNothingWentWrong(info);
  }));

  test('proxy-v2-options ssl,ssl-cipher,cert-sig,cert-key,authority (TLS 1.3 at HAProxy): version, cipher and SNI', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      bindOptions: `ssl crt ${serverCert.combinedFile}`,
      serverOptions: 'send-proxy-v2 proxy-v2-options ssl,ssl-cipher,cert-sig,cert-key,authority',
    });
    const reply = await queryInfo({
      host: proxy.host,
      port: proxy.port,
      localAddress: CLIENT,
      tls: { servername: 'mail.example.test' },
    });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.ok(reply.tlsSeen);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.via, 'proxy-v2');
    assert.deepEqual(reply.info.tls, {
      terminatedBy: 'proxy',
      version: reply.tlsSeen.version,
      cipher: reply.tlsSeen.cipher,
      sni: 'mail.example.test',
    });
    assert.deepEqual(reply.info.proxy, { authority: 'mail.example.test' });
    assertNothingWentWrong(info);
  }));

  test('proxy-v2-options ssl,ssl-cipher (TLS 1.2 at HAProxy): OpenSSL cipher name from the SSL TLV', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      bindOptions: `ssl crt ${serverCert.combinedFile}`,
      serverOptions: 'send-proxy-v2 proxy-v2-options ssl,ssl-cipher',
    });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT, tls: { maxVersion: 'TLSv1.2' } });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.ok(reply.tlsSeen);
    assert.equal(reply.tlsSeen.version, 'TLSv1.2');
    assert.equal(reply.info.client.address, CLIENT);
    assert.deepEqual(reply.info.tls, { terminatedBy: 'proxy', version: 'TLSv1.2', cipher: reply.tlsSeen.cipher });
    assertNothingWentWrong(info);
  }));

  test('send-proxy-v2-ssl-cn with a verified client certificate: CN and verify result reach the server', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      bindOptions: `ssl crt ${serverCert.combinedFile} verify optional ca-file ${clientCert.certFile}`,
      serverOptions: 'send-proxy-v2-ssl-cn',
    });
    const withCert = await queryInfo({
      host: proxy.host,
      port: proxy.port,
      localAddress: CLIENT,
      tls: { cert: clientCert.cert, key: clientCert.key },
    });
    assert.ok(withCert.info, `no info in ${JSON.stringify(withCert.raw)}`);
    assert.ok(withCert.tlsSeen);
    assert.equal(withCert.info.client.address, CLIENT);
    assert.deepEqual(withCert.info.tls, {
      terminatedBy: 'proxy',
      version: withCert.tlsSeen.version,
      clientCertVerified: true,
      clientCertCn: 'client.example.test',
    });

    const withoutCert = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: '127.0.0.6', tls: {} });
    assert.ok(withoutCert.info, `no info in ${JSON.stringify(withoutCert.raw)}`);
    assert.ok(withoutCert.tlsSeen);
    assert.equal(withoutCert.info.client.address, '127.0.0.6');
    assert.deepEqual(withoutCert.info.tls, { terminatedBy: 'proxy', version: withoutCert.tlsSeen.version });
    assertNothingWentWrong(info);
  }));

  test('check-send-proxy health checks (v2 LOCAL, tcp-check expecting the reply): handed over as proxy-v2-local, no warnings, never admitted', explained(async (t) => {
    // The check waits for the info reply, so it only passes if the listener handed the LOCAL
    // connection to the protocol: HAProxy's own check status proves the checks reach the server.
    const { info, proxy } = await behindHaproxy(t, {
      serverOptions: 'send-proxy-v2 check check-send-proxy inter 200ms',
      backendLines: ['option tcp-check', 'tcp-check expect string proxy-v2-local'],
    });
    const checks = await info.waitForConnections(3, 5000);
    for (const check of checks) {
      assert.equal(check.via, 'proxy-v2-local');
      assert.equal(check.client.address, PROXY, 'a LOCAL connection is from the proxy itself');
      assert.deepEqual(check.client, check.peer);
      assert.equal(check.tls, null);
      assert.equal(check.proxy, undefined);
    }
    assert.equal(info.admitted.length, 0, 'health checks never go through admission policies (rate limits, bans)');
    const stat = await proxy.serverStat();
    assert.equal(stat.check_status, 'L7OK', JSON.stringify(stat));
    assert.equal(stat.status, 'UP');
    assert.equal(stat.chkfail, '0');

    // A real client through the same backend still gets its own address, and is admitted.
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.via, 'proxy-v2');
    assert.deepEqual(info.admitted.map((i) => i.id), [reply.info.id]);
    assertNothingWentWrong(info);
  }));

  test('check-send-proxy health checks (v2 LOCAL, plain connect checks that HAProxy resets at once): no warnings, no security events', explained(async (t) => {
    // HAProxy's default check connects, writes the LOCAL header and closes with a reset (SO_LINGER 0).
    // By the time the listener sees the socket, the kernel may no longer know the peer's address.
    const { info, proxy } = await behindHaproxy(t, { serverOptions: 'send-proxy-v2 check check-send-proxy inter 100ms' });
    // Wait for several checks: the listener logs each accepted socket (at some level); a listener that
    // drops reset sockets silently gets the same assertions after the 2 s soft deadline.
    await waitUntil('log lines of 3 health checks', () => info.logs.length >= 6, 2000).catch(() => undefined);
    const stat = await proxy.serverStat();
    assert.equal(stat.check_status, 'L4OK', JSON.stringify(stat));
    assert.equal(stat.status, 'UP');
    assert.deepEqual(info.logsAtLeast(LEVEL.warn), [], 'no warn/error log lines for health checks');
    assert.deepEqual(info.events, [], 'health checks are no security events');
    assert.deepEqual(info.admitted, [], 'health checks never go through admission policies');
    for (const check of info.connections) {
      assert.equal(check.via, 'proxy-v2-local', `handed over: ${JSON.stringify(check)}`);
      assert.equal(check.client.address, PROXY);
    }
  }));

  test('the same health check made deterministic: LOCAL header then reset before the listener runs its accept callback', explained(async (t) => {
    // What HAProxy's check does (connect, write the v2 LOCAL header, close with SO_LINGER 0), from a
    // child process while this process's event loop is blocked (execFileSync), so the reset always lands
    // before the listener sees the socket: the kernel then no longer reports the peer's address.
    const info = stopAfter(t, await startInfoServer({}));
    explainOnFailure(t, 'listener log', () => info.logs.map((l) => JSON.stringify(l)).join('\n'));
    const script =
      `const s = require('node:net').connect(${info.port}, '127.0.0.1', () => ` +
      `s.write(Buffer.from('0d0a0d0a000d0a515549540a20000000', 'hex'), () => s.resetAndDestroy()));`;
    execFileSync(process.execPath, ['-e', script]);
    await waitUntil('the listener to see the socket', () => info.logs.length > 0 || info.connections.length > 0, 2000).catch(() => undefined);
    assert.deepEqual(info.logsAtLeast(LEVEL.warn), [], 'no warn/error log lines for a reset health check');
    assert.deepEqual(info.events, [], 'a reset health check is no security event');
    assert.equal(info.admitted.length, 0, 'never admitted as a client');
    for (const conn of info.connections) {
      assert.notEqual(conn.client.address, '', `handed over with an empty client address: ${JSON.stringify(conn)}`);
    }
  }));

  test('check-send-proxy health checks with send-proxy (v1): HAProxy writes a TCP4 line with the check\'s own addresses; no warnings', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, {
      serverOptions: 'send-proxy check check-send-proxy inter 200ms',
      backendLines: ['option tcp-check', 'tcp-check expect string proxy-v1'],
    });
    const checks = await info.waitForConnections(2, 5000);
    for (const check of checks) {
      assert.equal(check.via, 'proxy-v1');
      assert.equal(check.client.address, PROXY);
      assert.deepEqual(check.client, check.peer, 'the v1 line names the check connection itself');
      assert.equal(check.tls, null);
    }
    const stat = await proxy.serverStat();
    assert.equal(stat.check_status, 'L7OK', JSON.stringify(stat));
    assertNothingWentWrong(info);
  }));

  test('implicit TLS on the listener behind HAProxy mode tcp + send-proxy-v2: the listener terminates TLS after the header', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(
      t,
      { serverOptions: 'send-proxy-v2' },
      { implicitTls: true, secureContext: serverCert.secureContext() },
    );
    const reply = await queryInfo({
      host: proxy.host,
      port: proxy.port,
      localAddress: CLIENT,
      tls: { servername: 'mail.example.test' },
    });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.ok(reply.tlsSeen);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v2');
    assert.deepEqual(reply.info.tls, {
      terminatedBy: 'server',
      version: reply.tlsSeen.version,
      cipher: reply.tlsSeen.cipherStandardName,
      sni: 'mail.example.test',
    });
    assertNothingWentWrong(info);
  }));

  test('untrusted peer: a PROXY header from HAProxy at 127.0.0.1 to a listener trusting only 127.0.0.2 is refused', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(t, { serverOptions: 'send-proxy-v2' }, { trusted: ['127.0.0.2'] });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.equal(reply.raw, 'ERR proxy-refused\r\n');
    await waitUntil('the security event', () => info.events.length > 0);
    assert.equal(info.events.length, 1);
    assert.equal(info.events[0]!.kind, 'scan');
    assert.equal(info.events[0]!.reason, 'untrusted-proxy-header');
    assert.equal(info.events[0]!.connection.client.address, PROXY, 'the header was not honoured: the client is the peer');
    assert.equal(info.events[0]!.connection.via, 'direct');
    const warnings = info.logsAtLeast(LEVEL.warn);
    assert.equal(warnings.length, 1, JSON.stringify(info.logs));
    assert.match(String(warnings[0]!.msg), /127\.0\.0\.1/);
  }));

  test('untrusted peer on an implicit-TLS listener: refused before any handshake', explained(async (t) => {
    const { info, proxy } = await behindHaproxy(
      t,
      { serverOptions: 'send-proxy' },
      { trusted: ['127.0.0.2'], implicitTls: true, secureContext: serverCert.secureContext() },
    );
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.equal(reply.raw, 'ERR proxy-refused\r\n');
    await waitUntil('the security event', () => info.events.length > 0);
    assert.equal(info.events[0]!.reason, 'untrusted-proxy-header');
    assert.deepEqual(info.connections, [], 'nothing was handed to the protocol');
  }));
});
