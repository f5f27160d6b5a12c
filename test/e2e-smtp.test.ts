// SMTP and submission end to end (issue 5, "How it must be shown"): the real `portico serve`, real
// clients (swaks, Python smtplib, raw sockets) and real proxies (HAProxy 2.6 send-proxy-v2 and
// send-proxy-v2-ssl, NGINX stream proxy_protocol) on loopback. Each test asserts the bytes the client
// saw and the message file Portico stored: its Received header must name the client's address
// (127.0.0.x bound with --local-interface), never the proxy's 127.0.0.1, and say ESMTPS exactly when
// the client's leg was encrypted. DNS is a local test server: PTR/A records give 127.0.0.5 a name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, TEST_PASSWORD, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { startHaproxy } from './support/haproxy.ts';
import { startNginxStream } from './support/nginx.ts';
import { makeSelfSignedCertificate } from './support/certs.ts';
import type { TestCertificate } from './support/certs.ts';
import { freePorts } from './support/ports.ts';
import { runCommand } from './support/processes.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { authPlain, SmtpClient, swaks } from './support/mail-probes.ts';
import { escapeRegExp, headerFields, queuedId, rawExchange, storedFiles, storedMessage } from './support/mail-store.ts';
import { startTestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestContext } from 'node:test';

const HOST = 'mail.example.test';
const ACCOUNT = 'a@example.test';
const PROXY = '127.0.0.1';
const HAPROXY_CLIENT = '127.0.0.5';
const NGINX_CLIENT = '127.0.0.6';
const UNTRUSTED = '127.0.0.9';
const HELO = 'client.example.org';
const SENDER = 'someone@example.org';

/** The Received field Portico prepends, exactly: the tcp-info, the protocol, the TLS comment, the id. */
function receivedPattern(o: { tcpInfo: string; with: string; id: string }): RegExp {
  return new RegExp(
    `^Received: from ${escapeRegExp(HELO)} \\(${escapeRegExp(o.tcpInfo)}\\)\\r\\n` +
      `\\tby ${escapeRegExp(HOST)} \\(Portico\\) with ${o.with}\\r\\n` +
      `\\tid ${escapeRegExp(o.id)} for <${escapeRegExp(ACCOUNT)}>;\\r\\n` +
      `\\t(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\\r\\n$`,
  );
}

/** The one Received field of a stored message (asserts that it starts with Return-Path then Received). */
function onlyReceived(message: string, sender: string): string {
  assert.ok(message.startsWith(`Return-Path: <${sender}>\r\nReceived: `), `stored message starts with:\n${message.slice(0, 400)}`);
  const received = headerFields(message, 'Received');
  assert.equal(received.length, 1, `one Received field: ${JSON.stringify(received)}`);
  return received[0]!;
}

/** The TLS version and cipher swaks reports: "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256". */
function swaksTls(transcript: string): { version: string; cipher: string } {
  const match = /TLS started with cipher (TLSv1\.[0-3]):([A-Z0-9_-]+):\d+/.exec(transcript);
  assert.ok(match, `no TLS line in the swaks transcript:\n${transcript}`);
  return { version: match[1]!, cipher: match[2]! };
}

describe('portico serve: SMTP and submission behind real proxies, with real clients', () => {
  let portico: RunningPortico;
  let dns: TestDnsServer;
  let cert: TestCertificate;
  let ports: { mx: number; sub: number; direct: number };

  before(async () => {
    const [mx, sub, direct] = (await freePorts(3)) as [number, number, number];
    ports = { mx, sub, direct };
    [dns, cert] = await Promise.all([
      startTestDnsServer({
        // Forward-confirmed reverse DNS for the HAProxy client only: the Received header names it.
        '5.0.0.127.in-addr.arpa': { PTR: ['client5.example.org'] },
        'client5.example.org': { A: [HAPROXY_CLIENT] },
        'example.org': { TXT: ['v=spf1 -all'] },
      }),
      makeSelfSignedCertificate(HOST),
    ]);
    portico = await startPortico(`${serverSection(HOST)}

[server.proxy]
trusted-networks = ["${PROXY}"]

${listenerSection('mx', 'smtp', ports.mx)}
proxy.mode = "proxy-protocol"

${listenerSection('sub', 'submission', ports.sub)}

${listenerSection('direct', 'submission', ports.direct)}
proxy.trusted-networks = []

${mailSections({ accounts: [ACCOUNT], nameserver: dns.address })}`);
  });

  after(async () => {
    await portico?.stop();
    await dns?.close();
    cert?.remove();
  });

  function explainPortico(t: TestContext): void {
    explainOnFailure(t, 'portico log', () => portico.process.output());
  }

  test('HAProxy mode tcp + send-proxy-v2 from 127.0.0.5, plain: Received names [127.0.0.5] with ESMTP, never 127.0.0.1', explained(async (t) => {
    explainPortico(t);
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: ports.mx }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const result = await swaks([
      '--server', `${proxy.host}:${proxy.port}`, '--local-interface', HAPROXY_CLIENT, '--ehlo', HELO,
      '--from', SENDER, '--to', ACCOUNT, '--header', 'Subject: through haproxy, plain',
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    // On the wire: the EHLO reply already names the real client.
    assert.match(result.transcript, new RegExp(`<-  250-${escapeRegExp(HOST)} greets ${escapeRegExp(HELO)} \\[127\\.0\\.0\\.5\\]`));
    const id = queuedId(result.transcript);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    const received = onlyReceived(message, SENDER);
    assert.match(received, receivedPattern({ tcpInfo: 'client5.example.org [127.0.0.5]', with: 'ESMTP', id }));
    assert.doesNotMatch(message, /127\.0\.0\.1/, 'the proxy address appears nowhere in the stored message');
    assert.match(message, /\r\nSubject: through haproxy, plain\r\n/);
    const storedLog = await portico.waitForLog((l) => l.msg === 'smtp: message stored' && l.id === id);
    const open = await portico.waitForLog((l) => l.msg === 'connection open' && l.conn === storedLog.conn);
    assert.equal(open.listener, 'mx');
    assert.match(String(open.client), /^127\.0\.0\.5:\d+$/);
    assert.equal(open.via, 'proxy-v2');
    assert.match(String(open.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(open.tls, 'none');
  }));

  test('HAProxy mode tcp + send-proxy-v2 from 127.0.0.5, STARTTLS passed through: Received says ESMTPS with the TLS version and cipher swaks negotiated', explained(async (t) => {
    explainPortico(t);
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: ports.mx }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const result = await swaks([
      '--server', `${proxy.host}:${proxy.port}`, '--local-interface', HAPROXY_CLIENT, '--ehlo', HELO, '-tls',
      '--from', SENDER, '--to', ACCOUNT, '--header', 'Subject: through haproxy, starttls',
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    assert.match(result.transcript, /<-  250-STARTTLS\r?\n/);
    assert.match(result.transcript, /<-  220 2\.0\.0 /, 'STARTTLS answered 220');
    assert.match(result.transcript, /~> EHLO client\.example\.org/, 'EHLO again over TLS');
    assert.doesNotMatch(result.transcript, /<~  250-STARTTLS/, 'STARTTLS is not offered twice');
    const tls = swaksTls(result.transcript);
    const id = queuedId(result.transcript);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    const received = onlyReceived(message, SENDER);
    assert.match(
      received,
      receivedPattern({ tcpInfo: 'client5.example.org [127.0.0.5]', with: `ESMTPS \\(${escapeRegExp(tls.version)}, ${escapeRegExp(tls.cipher)}\\)`, id }),
    );
    assert.doesNotMatch(message, /127\.0\.0\.1/);
  }));

  test('HAProxy terminating TLS (bind ssl crt) + send-proxy-v2-ssl to submission: AUTH offered and accepted, Received says ESMTPSA (TLS terminated by proxy)', explained(async (t) => {
    explainPortico(t);
    const proxy = stopAfter(t, await startHaproxy({
      backend: { host: '127.0.0.1', port: ports.sub },
      bindOptions: `ssl crt ${cert.combinedFile}`,
      serverOptions: 'send-proxy-v2-ssl',
    }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const result = await swaks([
      '--server', `${proxy.host}:${proxy.port}`, '--local-interface', HAPROXY_CLIENT, '--ehlo', HELO, '--tls-on-connect',
      '--auth', 'PLAIN', '--auth-user', ACCOUNT, '--auth-password', TEST_PASSWORD,
      '--from', ACCOUNT, '--to', ACCOUNT, '--header', 'Subject: tls at haproxy',
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    const tls = swaksTls(result.transcript);
    // Portico's side of the connection is plain: the EHLO offers AUTH (the proxy says the client leg
    // was encrypted) and no STARTTLS (it is encrypted already).
    assert.match(result.transcript, /<~  250-AUTH PLAIN LOGIN\r?\n/);
    assert.doesNotMatch(result.transcript, /STARTTLS/);
    assert.match(result.transcript, /<~  235 2\.7\.0 /);
    const id = queuedId(result.transcript);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    const received = onlyReceived(message, ACCOUNT);
    // send-proxy-v2-ssl carries the version only (no cipher) in its SSL TLV.
    assert.match(
      received,
      receivedPattern({ tcpInfo: '[127.0.0.5]', with: `ESMTPSA \\(${escapeRegExp(tls.version)}, TLS terminated by proxy\\)`, id }),
    );
    assert.doesNotMatch(message, /127\.0\.0\.1/);
    const storedLog = await portico.waitForLog((l) => l.msg === 'smtp: message stored' && l.id === id);
    const authed = await portico.waitForLog((l) => l.msg === 'smtp: authenticated' && l.conn === storedLog.conn);
    assert.match(String(authed.client), /^127\.0\.0\.5:\d+$/);
    assert.equal(storedLog.account, ACCOUNT);
    assert.equal(authed.account, ACCOUNT);
    assert.equal(authed.tls, `proxy ${tls.version}`);
  }));

  test('the same submission listener through plain HAProxy (send-proxy-v2, no TLS): no AUTH offered, AUTH refused 538 5.7.11, MAIL 530', explained(async (t) => {
    explainPortico(t);
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: ports.sub }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const before = storedFiles(portico.dir, ACCOUNT).length;
    const client = await SmtpClient.connect({ port: proxy.port, localAddress: HAPROXY_CLIENT });
    t.after(() => client.destroy());
    explainOnFailure(t, 'bytes received', () => JSON.stringify(client.received));
    assert.equal((await client.reply())?.text, `220 ${HOST} ESMTP Portico\r\n`);
    const ehlo = await client.command(`EHLO ${HELO}`);
    assert.equal(
      ehlo?.text,
      `250-${HOST} greets ${HELO} [127.0.0.5]\r\n250-PIPELINING\r\n250-SIZE ${/SIZE (\d+)/.exec(ehlo?.text ?? '')?.[1]}\r\n` +
        '250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n',
    );
    assert.equal(
      (await client.command(`AUTH PLAIN ${authPlain(ACCOUNT, TEST_PASSWORD)}`))?.text,
      '538 5.7.11 Encryption required for requested authentication mechanism\r\n',
    );
    assert.equal((await client.command(`MAIL FROM:<${ACCOUNT}>`))?.text, '530 5.7.0 Authentication required\r\n');
    assert.match((await client.command('QUIT'))?.text ?? '', /^221 /);
    await client.closedByServer();
    assert.equal(storedFiles(portico.dir, ACCOUNT).length, before, 'nothing stored');
  }));

  test('NGINX stream proxy_protocol on (v1) from 127.0.0.6: Received names [127.0.0.6] with ESMTP', explained(async (t) => {
    explainPortico(t);
    const nginx = stopAfter(t, await startNginxStream({ backend: { host: '127.0.0.1', port: ports.mx } }));
    explainOnFailure(t, 'nginx', () => nginx.output());
    const result = await swaks([
      '--server', `${nginx.host}:${nginx.port}`, '--local-interface', NGINX_CLIENT, '--ehlo', HELO,
      '--from', SENDER, '--to', ACCOUNT, '--header', 'Subject: through nginx',
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    assert.match(result.transcript, new RegExp(`<-  250-${escapeRegExp(HOST)} greets ${escapeRegExp(HELO)} \\[127\\.0\\.0\\.6\\]`));
    const id = queuedId(result.transcript);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    const received = onlyReceived(message, SENDER);
    assert.match(received, receivedPattern({ tcpInfo: '[127.0.0.6]', with: 'ESMTP', id }));
    assert.doesNotMatch(message, /127\.0\.0\.1/);
    const storedLog = await portico.waitForLog((l) => l.msg === 'smtp: message stored' && l.id === id);
    const open = await portico.waitForLog((l) => l.msg === 'connection open' && l.conn === storedLog.conn);
    assert.match(String(open.client), /^127\.0\.0\.6:\d+$/);
    assert.equal(open.via, 'proxy-v1');
    assert.equal(open.listener, 'mx');
  }));

  test('Python smtplib direct to submission: STARTTLS, login, sendmail; Received says ESMTPSA with Python\'s TLS version and cipher', explained(async (t) => {
    explainPortico(t);
    const script = [
      'import smtplib, ssl, sys',
      'port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]',
      `s = smtplib.SMTP('127.0.0.1', port, local_hostname='${HELO}', timeout=10, source_address=('127.0.0.1', 0))`,
      's.set_debuglevel(1)',
      's.ehlo()',
      'code, text = s.starttls(context=ssl._create_unverified_context())',
      'print("STARTTLS", code, s.sock.version(), s.sock.cipher()[0])',
      's.ehlo()',
      'print("AUTHMECH", s.esmtp_features.get("auth", "").strip())',
      'code, text = s.login(user, password)',
      'print("LOGIN", code, text.decode())',
      'msg = "From: <%s>\\r\\nTo: <%s>\\r\\nSubject: from python\\r\\n\\r\\nHello from smtplib.\\r\\n" % (user, user)',
      'print("REFUSED", s.sendmail(user, [user], msg))',
      'print("QUIT", s.quit()[0])',
    ].join('\n');
    const result = await runCommand('python3', ['-c', script, String(ports.direct), ACCOUNT, TEST_PASSWORD]);
    explainOnFailure(t, 'python', () => `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    const tls = /^STARTTLS 220 (TLSv1\.[23]) (\S+)$/m.exec(result.stdout);
    assert.ok(tls, result.stdout);
    assert.match(result.stdout, /^AUTHMECH PLAIN LOGIN$/m);
    assert.match(result.stdout, /^LOGIN 235 2\.7\.0 /m);
    assert.match(result.stdout, /^REFUSED \{\}$/m);
    assert.match(result.stdout, /^QUIT 221$/m);
    // smtplib's debug output is the wire: the server's reply lines as it read them.
    assert.match(result.stderr, /reply: b'250 2\.0\.0 OK: queued as \S+\\r\\n'/);
    const id = queuedId(result.stderr);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    const received = onlyReceived(message, ACCOUNT);
    assert.match(received, receivedPattern({ tcpInfo: '[127.0.0.1]', with: `ESMTPSA \\(${escapeRegExp(tls[1]!)}, ${escapeRegExp(tls[2]!)}\\)`, id }));
    assert.match(message, /\r\n\r\nHello from smtplib\.\r\n$/);
  }));

  test('an untrusted client on the PROXY-protocol listener: served as itself (127.0.0.9), logged with its own address', explained(async (t) => {
    explainPortico(t);
    const result = await swaks([
      '--server', `127.0.0.1:${ports.mx}`, '--local-interface', UNTRUSTED, '--ehlo', HELO,
      '--from', SENDER, '--to', ACCOUNT, '--header', 'Subject: untrusted direct',
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    const id = queuedId(result.transcript);
    const message = await storedMessage(portico.dir, ACCOUNT, id);
    assert.match(onlyReceived(message, SENDER), receivedPattern({ tcpInfo: '[127.0.0.9]', with: 'ESMTP', id }));
    const stored = await portico.waitForLog((l) => l.msg === 'smtp: message stored' && l.id === id);
    const open = await portico.waitForLog((l) => l.msg === 'connection open' && l.conn === stored.conn);
    assert.match(String(open.client), /^127\.0\.0\.9:\d+$/);
    assert.equal(open.via, 'direct');
    assert.equal(open.peer, open.client, 'no proxy in between: the peer is the client');
    assert.equal(stored.client, open.client);
  }));

  test('an untrusted peer (127.0.0.9) sending its own PROXY v2 header (swaks --proxy) claiming 127.0.0.5: 421 PROXY header refused, security event, nothing stored', explained(async (t) => {
    explainPortico(t);
    const before = storedFiles(portico.dir, ACCOUNT).length;
    const earlier = new Set(portico.logs().filter((l) => l.msg === 'security event').map((l) => l.conn));
    const result = await swaks([
      '--server', `127.0.0.1:${ports.mx}`, '--local-interface', UNTRUSTED, '--ehlo', HELO,
      '--proxy-version', '2', '--proxy-family', 'AF_INET',
      '--proxy-source', HAPROXY_CLIENT, '--proxy-source-port', '4711',
      '--proxy-dest', '127.0.0.1', '--proxy-dest-port', String(ports.mx),
      '--from', SENDER, '--to', ACCOUNT,
    ]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.notEqual(result.code, 0, 'swaks did not get its message through');
    assert.match(result.transcript, new RegExp(`<\\*\\* +421 4\\.7\\.0 ${escapeRegExp(HOST)} PROXY header refused`));
    assert.doesNotMatch(result.transcript, /queued as/);
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'untrusted-proxy-header' && l.client === UNTRUSTED && !earlier.has(l.conn));
    assert.equal(event.event, 'scan');
    assert.equal(event.peer, UNTRUSTED);
    assert.equal(event.listener, 'mx');
    const warning = await portico.waitForLog((l) => l.level >= 40 && l.conn === event.conn);
    assert.match(warning.msg, /untrusted peer 127\.0\.0\.9/);
    assert.match(String(warning.client), /^127\.0\.0\.9:\d+$/, 'logged with its own address, not the claimed one');
    assert.equal(storedFiles(portico.dir, ACCOUNT).length, before, 'nothing stored');
    assert.equal(portico.logs().filter((l) => String(l.client).startsWith(`${HAPROXY_CLIENT}:4711`)).length, 0, 'the claimed address was never used');
  }));

  test('an untrusted peer that goes on after its PROXY header was refused (pipelined transaction after the 421): exactly the greeting and the 421, nothing stored', explained(async (t) => {
    explainPortico(t);
    const earlier = new Set(portico.logs().filter((l) => l.msg === 'security event').map((l) => l.conn));
    const bytes = await rawExchange({
      port: ports.mx,
      localAddress: UNTRUSTED,
      send: `PROXY TCP4 ${HAPROXY_CLIENT} 127.0.0.1 4711 25\r\n`,
      then: {
        when: /421 [^\r\n]*\r\n/,
        send: `EHLO ${HELO}\r\nMAIL FROM:<${SENDER}>\r\nRCPT TO:<${ACCOUNT}>\r\nDATA\r\nSubject: after the refusal\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n`,
      },
    });
    assert.equal(bytes, `220 ${HOST} ESMTP Portico\r\n421 4.7.0 ${HOST} PROXY header refused\r\n`);
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'untrusted-proxy-header' && l.client === UNTRUSTED && !earlier.has(l.conn));
    assert.equal(event.event, 'scan');
    await portico.waitForLog((l) => l.msg === 'connection closed' && l.conn === event.conn);
    // A whole transaction by another client afterwards: by the time it is stored, anything the refused
    // connection could have stored would be there too.
    const later = await swaks([
      '--server', `127.0.0.1:${ports.mx}`, '--local-interface', UNTRUSTED, '--ehlo', HELO,
      '--from', SENDER, '--to', ACCOUNT, '--header', 'Subject: the next client',
    ]);
    assert.equal(later.code, 0, later.transcript);
    await storedMessage(portico.dir, ACCOUNT, queuedId(later.transcript));
    const smuggled = storedFiles(portico.dir, ACCOUNT).filter((f) => f.text.includes('after the refusal'));
    assert.deepEqual(smuggled, [], 'nothing from the refused connection was stored');
  }));
});
