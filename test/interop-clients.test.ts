// Interop with real clients that send a PROXY header themselves (issue 4, "How it must be shown"):
// curl --haproxy-protocol (v1, with its own socket addresses) and swaks --proxy-* (v1 and v2, with
// addresses it is told to claim). A client that sends the header plays the proxy's part, so the
// listener trusts the client's address (127.0.0.5) where the header must be honoured.
import { test, describe, before, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { makeSelfSignedCertificate } from './support/certs.ts';
import type { TestCertificate } from './support/certs.ts';
import { LEVEL, parseInfo, startInfoServer } from './support/info-server.ts';
import type { InfoServer, InfoServerOptions } from './support/info-server.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { runCommand } from './support/processes.ts';
import { handleSmtpSession, smtpGreetingErrors } from '../packages/smtp/src/index.ts';
import type { SmtpOptions } from '../packages/smtp/src/index.ts';

const CLIENT = '127.0.0.5';
const LOOPBACK = '127.0.0.1';

let serverCert: TestCertificate;
before(async () => {
  serverCert = await makeSelfSignedCertificate('mail.example.test');
});
after(() => serverCert?.remove());

async function server(t: TestContext, options: InfoServerOptions): Promise<InfoServer> {
  const info = stopAfter(t, await startInfoServer(options));
  explainOnFailure(t, 'listener log', () => info.logs.map((l) => JSON.stringify(l)).join('\n'));
  return info;
}

/** curl with `-w` appending our local address and port on a last line (curl knows them, we do not). */
async function curl(t: TestContext, args: readonly string[]): Promise<{ code: number | null; body: string; localIp: string; localPort: number; stderr: string }> {
  const result = await runCommand('curl', [
    '--silent', '--show-error', '--max-time', '5', '--http0.9',
    '--write-out', '\n%{local_ip} %{local_port}',
    ...args,
  ]);
  explainOnFailure(t, 'curl', () => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const cut = result.stdout.lastIndexOf('\n');
  const [localIp = '', localPort = '0'] = result.stdout.slice(cut + 1).split(' ');
  return { code: result.code, body: result.stdout.slice(0, cut), localIp, localPort: Number(localPort), stderr: result.stderr };
}

describe('curl --haproxy-protocol -> listener', () => {
  test('trusted sender (127.0.0.5): the v1 line carries curl\'s own addresses, the HTTP request after it is served', explained(async (t) => {
    const info = await server(t, { trusted: [CLIENT] });
    const result = await curl(t, ['--haproxy-protocol', '--interface', CLIENT, `http://${info.host}:${info.port}/api/connection`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.body, /^HTTP\/1\.1 200 OK\r\n|^\{/);
    const seen = parseInfo(result.body);
    assert.ok(seen, `no info in ${JSON.stringify(result.body)}`);
    assert.deepEqual(seen.client, { address: CLIENT, port: result.localPort });
    assert.deepEqual(seen.server, { address: LOOPBACK, port: info.port });
    assert.deepEqual(seen.peer, { address: CLIENT, port: result.localPort });
    assert.equal(seen.via, 'proxy-v1');
    assert.equal(seen.tls, null);
    assert.deepEqual(info.logsAtLeast(LEVEL.warn), []);
    assert.deepEqual(info.events, []);
  }));

  test('trusted sender on an implicit-TLS listener: PROXY v1 line, then the TLS handshake with SNI', explained(async (t) => {
    const info = await server(t, { trusted: [CLIENT], implicitTls: true, secureContext: serverCert.secureContext() });
    const result = await curl(t, [
      '--haproxy-protocol', '--interface', CLIENT, '--insecure',
      '--resolve', `mail.example.test:${info.port}:${info.host}`,
      `https://mail.example.test:${info.port}/api/connection`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const seen = parseInfo(result.body);
    assert.ok(seen, `no info in ${JSON.stringify(result.body)}`);
    assert.deepEqual(seen.client, { address: CLIENT, port: result.localPort });
    assert.equal(seen.via, 'proxy-v1');
    assert.ok(seen.tls);
    assert.equal(seen.tls.terminatedBy, 'server');
    assert.equal(seen.tls.sni, 'mail.example.test');
    assert.match(String(seen.tls.version), /^TLSv1\.[23]$/);
    assert.equal(typeof seen.tls.cipher, 'string');
  }));

  test('untrusted sender (listener trusts only 127.0.0.1): the header is refused and reported', explained(async (t) => {
    const info = await server(t, { trusted: [LOOPBACK] });
    const result = await curl(t, ['--haproxy-protocol', '--interface', CLIENT, `http://${info.host}:${info.port}/`]);
    assert.equal(result.body, 'ERR proxy-refused\r\n');
    assert.equal(info.events.length, 1);
    assert.equal(info.events[0]!.kind, 'scan');
    assert.equal(info.events[0]!.reason, 'untrusted-proxy-header');
    assert.equal(info.events[0]!.connection.client.address, CLIENT);
    assert.equal(info.events[0]!.connection.via, 'direct');
  }));

  test('trusted peer without a header (plain curl from 127.0.0.1): refused as malformed, with a warning that says why', explained(async (t) => {
    const info = await server(t, { trusted: [LOOPBACK] });
    const result = await curl(t, ['--interface', LOOPBACK, `http://${info.host}:${info.port}/`]);
    assert.equal(result.body, 'ERR proxy-refused\r\n');
    assert.deepEqual(info.connections, []);
    const warnings = info.logsAtLeast(LEVEL.warn);
    assert.equal(warnings.length, 1, JSON.stringify(info.logs));
    assert.match(String(warnings[0]!.msg), /127\.0\.0\.1/);
  }));
});

// swaks speaks SMTP: the server side is the real SMTP session (packages/smtp) behind the listener.
interface Delivered {
  readonly address: string;
  readonly message: string;
}

async function smtpServer(t: TestContext, options: InfoServerOptions): Promise<{ info: InfoServer; delivered: Delivered[] }> {
  const delivered: Delivered[] = [];
  const smtpOptions: SmtpOptions = {
    mode: 'smtp',
    hostname: 'mail.example.test',
    domains: ['example.test'],
    accounts: { exists: (address) => address === 'alice@example.test', verify: async () => false },
    deliver: async (address, message) => {
      delivered.push({ address, message: message.toString('utf8') });
      return `id${delivered.length}`;
    },
    limits: { commandTimeoutMs: 10_000 },
  };
  const info = await server(t, {
    ...options,
    errors: smtpGreetingErrors('mail.example.test'),
    protocol: (conn) => handleSmtpSession(conn, smtpOptions),
  });
  return { info, delivered };
}

async function swaks(t: TestContext, port: number, args: readonly string[]) {
  const result = await runCommand('swaks', [
    '--server', LOOPBACK, '--port', String(port), '--local-interface', CLIENT,
    '--to', 'alice@example.test', '--from', 'bob@sender.test', '--helo', 'client.sender.test',
    '--timeout', '2',
    ...args,
  ]);
  explainOnFailure(t, 'swaks', () => `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

describe('swaks --proxy-* -> listener -> SMTP session', () => {
  test('--proxy-version 1 TCP4: the claimed client reaches the session and the Received header', explained(async (t) => {
    const { info, delivered } = await smtpServer(t, { trusted: [CLIENT] });
    const result = await swaks(t, info.port, [
      '--proxy-version', '1', '--proxy-family', 'TCP4',
      '--proxy-source', '192.0.2.7', '--proxy-source-port', '4711',
      '--proxy-dest', '198.51.100.1', '--proxy-dest-port', '25',
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const seen = info.connections[0];
    assert.ok(seen);
    assert.deepEqual(seen.client, { address: '192.0.2.7', port: 4711 });
    assert.deepEqual(seen.server, { address: '198.51.100.1', port: 25 });
    assert.equal(seen.peer.address, CLIENT);
    assert.equal(seen.via, 'proxy-v1');
    assert.equal(seen.tls, null);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.address, 'alice@example.test');
    assert.match(delivered[0]!.message, /^Received: from client\.sender\.test \([^)]*\[192\.0\.2\.7\]\)/m);
    assert.deepEqual(info.logsAtLeast(LEVEL.warn), []);
  }));

  test('--proxy-version 2 AF_INET6: canonical IPv6 client address', explained(async (t) => {
    const { info, delivered } = await smtpServer(t, { trusted: [CLIENT] });
    const result = await swaks(t, info.port, [
      '--proxy-version', '2', '--proxy-family', 'AF_INET6',
      '--proxy-source', '2001:DB8:0:0::7', '--proxy-source-port', '4711',
      '--proxy-dest', '2001:db8::25', '--proxy-dest-port', '587',
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const seen = info.connections[0];
    assert.ok(seen);
    assert.deepEqual(seen.client, { address: '2001:db8::7', port: 4711 });
    assert.deepEqual(seen.server, { address: '2001:db8::25', port: 587 });
    assert.equal(seen.peer.address, CLIENT);
    assert.equal(seen.via, 'proxy-v2');
    assert.equal(delivered.length, 1);
    assert.match(delivered[0]!.message, /\[IPv6:2001:db8::7\]\)/);
  }));

  test('--proxy-version 2 --proxy-command LOCAL: swaks 20201014 sends command 0x2 (not LOCAL 0x0): dropped as malformed', explained(async (t) => {
    // swaks writes pack("W", 0x20 + (LOCAL ? 0x02 : 0x01)): version/command byte 0x22. The spec
    // (proxy-protocol.txt 2.2) defines only 0x0 LOCAL and 0x1 PROXY, and receivers must drop
    // connections presenting other values.
    const { info, delivered } = await smtpServer(t, { trusted: [CLIENT] });
    const result = await swaks(t, info.port, [
      '--proxy-version', '2', '--proxy-command', 'LOCAL', '--proxy-family', 'AF_INET',
      '--proxy-source', '192.0.2.7', '--proxy-source-port', '4711',
      '--proxy-dest', '198.51.100.1', '--proxy-dest-port', '25',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /421 4\.7\.0 mail\.example\.test PROXY header refused/);
    assert.deepEqual(info.connections, []);
    assert.equal(delivered.length, 0);
    const warnings = info.logsAtLeast(LEVEL.warn);
    assert.equal(warnings.length, 1, JSON.stringify(info.logs));
    assert.match(String(warnings[0]!.msg), /malformed PROXY header from trusted peer 127\.0\.0\.5/);
  }));

  test('--proxy (raw v1 text after "PROXY ")', explained(async (t) => {
    const { info } = await smtpServer(t, { trusted: [CLIENT] });
    const result = await swaks(t, info.port, ['--proxy-version', '1', '--proxy', 'TCP4 203.0.113.9 198.51.100.1 50000 25', '--quit-after', 'EHLO']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const seen = info.connections[0];
    assert.ok(seen);
    assert.deepEqual(seen.client, { address: '203.0.113.9', port: 50000 });
    assert.equal(seen.via, 'proxy-v1');
  }));

  test('untrusted sender: the PROXY line is refused with the SMTP 421 and reported', explained(async (t) => {
    const { info, delivered } = await smtpServer(t, { trusted: [LOOPBACK] });
    const result = await swaks(t, info.port, [
      '--proxy-version', '1', '--proxy-family', 'TCP4',
      '--proxy-source', '192.0.2.7', '--proxy-source-port', '4711',
      '--proxy-dest', '198.51.100.1', '--proxy-dest-port', '25',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /421 4\.7\.0 mail\.example\.test PROXY header refused/);
    assert.equal(delivered.length, 0);
    assert.equal(info.events.length, 1);
    assert.equal(info.events[0]!.reason, 'untrusted-proxy-header');
    assert.equal(info.events[0]!.connection.client.address, CLIENT);
  }));
});
