// Interop with a real NGINX 1.22 stream proxy (`proxy_protocol on`, which sends PROXY v1) in front of
// the listener (issue 4, "How it must be shown"). Each test starts its own NGINX on loopback with a
// generated config; clients connect from 127.0.0.5 so that the client address differs from the
// proxy's 127.0.0.1. The listener trusts 127.0.0.1 only.
import { test, describe, before, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { makeSelfSignedCertificate } from './support/certs.ts';
import type { TestCertificate } from './support/certs.ts';
import { startNginxStream } from './support/nginx.ts';
import type { NginxStreamOptions, RunningNginx } from './support/nginx.ts';
import { LEVEL, parseInfo, queryInfo, startInfoServer } from './support/info-server.ts';
import type { InfoServer, InfoServerOptions } from './support/info-server.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { runCommand } from './support/processes.ts';

const CLIENT = '127.0.0.5';
const PROXY = '127.0.0.1';

let serverCert: TestCertificate;
before(async () => {
  serverCert = await makeSelfSignedCertificate('mail.example.test');
});
after(() => serverCert?.remove());

async function behindNginx(
  t: TestContext,
  nginx: Omit<NginxStreamOptions, 'backend'>,
  server: InfoServerOptions = {},
): Promise<{ info: InfoServer; proxy: RunningNginx }> {
  const info = stopAfter(t, await startInfoServer(server));
  const proxy = stopAfter(t, await startNginxStream({ ...nginx, backend: { host: info.host, port: info.port } }));
  explainOnFailure(t, 'nginx config', () => proxy.config);
  explainOnFailure(t, 'nginx output', () => proxy.output());
  explainOnFailure(t, 'listener log', () => info.logs.map((l) => JSON.stringify(l)).join('\n'));
  return { info, proxy };
}

function assertNothingWentWrong(info: InfoServer): void {
  assert.deepEqual(info.logsAtLeast(LEVEL.warn), [], 'no warn/error log lines');
  assert.deepEqual(info.events, [], 'no security events');
}

describe('NGINX stream proxy_protocol on -> listener (proxy-protocol, trusting 127.0.0.1)', () => {
  test('plain TCP: client address and port from the v1 line, peer is NGINX, no TLS', explained(async (t) => {
    const { info, proxy } = await behindNginx(t, {});
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.deepEqual(reply.info.server, { address: PROXY, port: proxy.port });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v1');
    assert.equal(reply.info.tls, null);
    assert.equal(reply.info.proxy, undefined);
    assert.deepEqual(info.connections, [reply.info]);
    assertNothingWentWrong(info);
  }));

  test('HTTP request right behind the v1 line (curl through NGINX): nothing after the header is lost', explained(async (t) => {
    const { info, proxy } = await behindNginx(t, {});
    const result = await runCommand('curl', [
      '--silent', '--show-error', '--max-time', '5',
      '--interface', CLIENT,
      '--write-out', '\n%{local_port}',
      `http://${proxy.host}:${proxy.port}/api/connection`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    const localPort = Number(lines.pop());
    const seen = parseInfo(lines.join('\n'));
    assert.ok(seen, `no info in ${JSON.stringify(result.stdout)}`);
    assert.deepEqual(seen.client, { address: CLIENT, port: localPort });
    assert.equal(seen.peer.address, PROXY);
    assert.equal(seen.via, 'proxy-v1');
    assert.equal(seen.tls, null);
    assertNothingWentWrong(info);
  }));

  test('TLS terminated in NGINX, listener declares tls.terminated-by-proxy: tls.terminatedBy proxy', explained(async (t) => {
    const { info, proxy } = await behindNginx(
      t,
      { tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile } },
      { terminatedByProxy: true },
    );
    const reply = await queryInfo({
      host: proxy.host,
      port: proxy.port,
      localAddress: CLIENT,
      tls: { servername: 'mail.example.test' },
    });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.ok(reply.tlsSeen, 'the client did speak TLS to NGINX');
    assert.deepEqual(reply.info.client, { address: CLIENT, port: reply.localPort });
    assert.equal(reply.info.peer.address, PROXY);
    assert.equal(reply.info.via, 'proxy-v1');
    // v1 carries no TLS details: only the listener's declaration says the proxy terminated TLS.
    assert.deepEqual(reply.info.tls, { terminatedBy: 'proxy' });
    assertNothingWentWrong(info);
  }));

  test('TLS terminated in NGINX, listener does not declare it: not counted as encrypted', explained(async (t) => {
    const { info, proxy } = await behindNginx(t, { tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile } });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT, tls: {} });
    assert.ok(reply.info, `no info in ${JSON.stringify(reply.raw)}`);
    assert.equal(reply.info.client.address, CLIENT);
    assert.equal(reply.info.via, 'proxy-v1');
    assert.equal(reply.info.tls, null);
    assertNothingWentWrong(info);
  }));

  test('untrusted NGINX (listener trusts only 127.0.0.2): its v1 line is refused', explained(async (t) => {
    const { info, proxy } = await behindNginx(t, {}, { trusted: ['127.0.0.2'] });
    const reply = await queryInfo({ host: proxy.host, port: proxy.port, localAddress: CLIENT });
    assert.equal(reply.raw, 'ERR proxy-refused\r\n');
    assert.equal(info.events.length, 1);
    assert.equal(info.events[0]!.reason, 'untrusted-proxy-header');
    assert.equal(info.events[0]!.connection.client.address, PROXY);
  }));
});
