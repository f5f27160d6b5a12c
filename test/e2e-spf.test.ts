// SPF end to end (issue 5, "How it must be shown"): a local DNS zone where example.org allows only
// 127.0.0.7 ("v=spf1 ip4:127.0.0.7 -all"), the real `portico serve` resolving through it, and the same
// message from bob@example.org arriving three ways: through a trusted HAProxy (send-proxy-v2) from
// 127.0.0.7 (spf=pass), directly from 127.0.0.1 (spf=fail: stored with `relaxed`, refused 550 with
// `strict`), and with a PROXY header claiming 127.0.0.7 from a peer that is not trusted (refused before
// any SMTP command, nothing stored). Each Portico has two SMTP listeners: "mx" trusts HAProxy's
// 127.0.0.1, "direct" trusts only 127.0.0.2 (so 127.0.0.1 is an ordinary client there).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { startHaproxy } from './support/haproxy.ts';
import { freePorts } from './support/ports.ts';
import { makeTempDir } from './support/temp.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { SmtpClient, swaks } from './support/mail-probes.ts';
import { escapeRegExp, headerFields, queuedId, rawExchange, storedFiles, storedMessage } from './support/mail-store.ts';
import { startTestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestContext } from 'node:test';

const HOST = 'mail.example.test';
const ACCOUNT = 'a@example.test';
const SENDER = 'bob@example.org';
const HELO = 'client.example.org';
const ALLOWED = '127.0.0.7';
const UNTRUSTED = '127.0.0.9';
/** The same message on every path (CRLF line ends, as it goes over the wire). */
const MESSAGE = [
  `From: Bob <${SENDER}>`,
  `To: <${ACCOUNT}>`,
  'Subject: SPF end to end',
  'Message-ID: <spf-e2e@example.org>',
  'Date: Mon, 01 Jan 2024 00:00:00 +0000',
  '',
  'The same message on every path.',
  '',
].join('\r\n');

let dns: TestDnsServer;
let messageFile: string;
const temp = makeTempDir('spf-e2e');

before(async () => {
  dns = await startTestDnsServer({ 'example.org': { TXT: [`v=spf1 ip4:${ALLOWED} -all`] } });
  messageFile = join(temp.path, 'message.eml');
  // swaks ends the DATA with CRLF "." CRLF itself: the file holds MESSAGE without its last CRLF.
  writeFileSync(messageFile, MESSAGE.slice(0, -2));
});
after(async () => {
  await dns?.close();
  temp.remove();
});

interface Server {
  portico: RunningPortico;
  mx: number;
  direct: number;
}

async function startServer(verify: 'relaxed' | 'strict'): Promise<Server> {
  const [mx, direct] = (await freePorts(2)) as [number, number];
  const portico = await startPortico(`${serverSection(HOST)}

[server.proxy]
trusted-networks = ["127.0.0.1"]

${listenerSection('mx', 'smtp', mx)}

${listenerSection('direct', 'smtp', direct)}
proxy.trusted-networks = ["127.0.0.2"]

${mailSections({ accounts: [ACCOUNT], nameserver: dns.address })}
[mail-auth]
spf.verify = "${verify}"
`);
  return { portico, mx, direct };
}

/** swaks sending MESSAGE as bob@example.org. */
function send(port: number, localInterface: string) {
  return swaks([
    '--server', `127.0.0.1:${port}`, '--local-interface', localInterface, '--ehlo', HELO,
    '--from', SENDER, '--to', ACCOUNT, '--data', messageFile,
  ]);
}

/** The stored message for the transcript's 250 reply: trace fields, then MESSAGE byte for byte. */
async function stored(server: Server, transcript: string): Promise<{ message: string; received: string; authResults: string }> {
  const id = queuedId(transcript);
  const message = await storedMessage(server.portico.dir, ACCOUNT, id);
  assert.ok(message.endsWith(MESSAGE), `the message itself is stored unchanged after the trace fields:\n${message}`);
  assert.ok(message.startsWith(`Return-Path: <${SENDER}>\r\nReceived: from ${HELO} (`), message.slice(0, 300));
  const received = headerFields(message, 'Received');
  const authResults = headerFields(message, 'Authentication-Results');
  assert.equal(received.length, 1, message);
  assert.equal(authResults.length, 1, message);
  // Trace fields on top, in order: Return-Path, Received, Authentication-Results, then the message.
  assert.equal(message, `Return-Path: <${SENDER}>\r\n${received[0]}${authResults[0]}${MESSAGE}`);
  return { message, received: received[0]!, authResults: authResults[0]! };
}

function spfOf(authResults: string): string | undefined {
  return /\bspf=(\w+)/.exec(authResults)?.[1];
}

/** The SPF result Portico logged at MAIL FROM for the client address (the "SPF at MAIL FROM" line). */
function spfLogged(portico: RunningPortico, client: string): string[] {
  return portico
    .logs()
    .filter((l) => l.msg === 'smtp: SPF at MAIL FROM' && String(l.client).startsWith(`${client}:`))
    .map((l) => String(l.spf));
}

async function throughHaproxy(t: TestContext, server: Server) {
  const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: server.mx }, serverOptions: 'send-proxy-v2' }));
  explainOnFailure(t, 'haproxy', () => proxy.output());
  return proxy;
}

describe('SPF relaxed: recorded, never refused', () => {
  let server: Server;
  before(async () => {
    server = await startServer('relaxed');
  });
  after(async () => {
    await server?.portico.stop();
  });

  test('through trusted HAProxy (send-proxy-v2) from 127.0.0.7: stored with spf=pass for 127.0.0.7', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const proxy = await throughHaproxy(t, server);
    const result = await send(proxy.port, ALLOWED);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    const { message, received, authResults } = await stored(server, result.transcript);
    assert.match(received, /^Received: from client\.example\.org \(\[127\.0\.0\.7\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTP\r\n/);
    assert.match(authResults, new RegExp(`^Authentication-Results: ${escapeRegExp(HOST)};`));
    assert.equal(spfOf(authResults), 'pass', authResults);
    assert.match(authResults, /smtp\.mailfrom=(bob@)?example\.org/);
    assert.match(authResults, /127\.0\.0\.7/);
    assert.doesNotMatch(message, /127\.0\.0\.1/, 'the proxy address is in no trace field');
    await server.portico.waitForLog((l) => l.msg === 'smtp: SPF at MAIL FROM' && String(l.client).startsWith(`${ALLOWED}:`));
    assert.deepEqual(spfLogged(server.portico, ALLOWED), ['pass']);
  }));

  test('directly from 127.0.0.1 (a listener that trusts only 127.0.0.2): stored with spf=fail for 127.0.0.1', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const result = await send(server.direct, '127.0.0.1');
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    assert.match(result.transcript, /<-  250 2\.1\.0 /, 'MAIL FROM accepted: relaxed only records the failure');
    const { received, authResults } = await stored(server, result.transcript);
    assert.match(received, /^Received: from client\.example\.org \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTP\r\n/);
    assert.equal(spfOf(authResults), 'fail', authResults);
    assert.match(authResults, /smtp\.mailfrom=(bob@)?example\.org/);
    assert.doesNotMatch(authResults, /127\.0\.0\.7/);
  }));

  test('an untrusted peer (127.0.0.9) sending "PROXY TCP4 127.0.0.7 ..." itself: 421 PROXY header refused, security event, no SPF check, nothing stored', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const before = storedFiles(server.portico.dir, ACCOUNT).length;
    const spfBefore = spfLogged(server.portico, ALLOWED).length;
    const bytes = await rawExchange({
      port: server.mx,
      localAddress: UNTRUSTED,
      send: `PROXY TCP4 ${ALLOWED} 127.0.0.1 40000 25\r\nEHLO ${HELO}\r\nMAIL FROM:<${SENDER}>\r\nRCPT TO:<${ACCOUNT}>\r\nDATA\r\n${MESSAGE}.\r\nQUIT\r\n`,
    });
    assert.equal(bytes, `220 ${HOST} ESMTP Portico\r\n421 4.7.0 ${HOST} PROXY header refused\r\n`);
    const event = await server.portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'untrusted-proxy-header' && l.client === UNTRUSTED);
    assert.equal(event.event, 'scan');
    assert.equal(event.peer, UNTRUSTED);
    await server.portico.waitForLog((l) => l.msg === 'connection closed' && l.conn === event.conn);
    assert.equal(spfLogged(server.portico, ALLOWED).length, spfBefore, 'the claimed address was never checked');
    assert.deepEqual(spfLogged(server.portico, UNTRUSTED), [], 'no SMTP command of the refused connection was run');
    assert.equal(storedFiles(server.portico.dir, ACCOUNT).length, before, 'nothing stored');
  }));

  test('real HAProxy claiming 127.0.0.7 to the listener that does not trust it (127.0.0.1 is not in its list): swaks gets the 421, nothing stored', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const before = storedFiles(server.portico.dir, ACCOUNT).length;
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: server.direct }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const result = await send(proxy.port, ALLOWED);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.notEqual(result.code, 0);
    assert.match(result.transcript, /<-  220 mail\.example\.test ESMTP Portico\r?\n/);
    assert.match(result.transcript, new RegExp(`<\\*\\* +421 4\\.7\\.0 ${escapeRegExp(HOST)} PROXY header refused`));
    assert.doesNotMatch(result.transcript, /queued as/);
    const event = await server.portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'untrusted-proxy-header' && l.listener === 'direct');
    assert.equal(event.client, '127.0.0.1', 'the header was not honoured: the client is HAProxy itself');
    assert.equal(storedFiles(server.portico.dir, ACCOUNT).length, before, 'nothing stored');
  }));
});

describe('SPF strict: an SPF fail is refused at MAIL FROM', () => {
  let server: Server;
  before(async () => {
    server = await startServer('strict');
  });
  after(async () => {
    await server?.portico.stop();
  });

  test('through trusted HAProxy from 127.0.0.7: accepted and stored with spf=pass', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const proxy = await throughHaproxy(t, server);
    const result = await send(proxy.port, ALLOWED);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0, result.transcript);
    const { received, authResults } = await stored(server, result.transcript);
    assert.match(received, /\(\[127\.0\.0\.7\]\)/);
    assert.equal(spfOf(authResults), 'pass', authResults);
  }));

  test('directly from 127.0.0.1: MAIL FROM refused "550 5.7.23" naming example.org and 127.0.0.1, nothing stored', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const before = storedFiles(server.portico.dir, ACCOUNT).length;
    const client = await SmtpClient.connect({ port: server.direct, localAddress: '127.0.0.1' });
    t.after(() => client.destroy());
    explainOnFailure(t, 'bytes received', () => JSON.stringify(client.received));
    assert.equal((await client.reply())?.code, 220);
    assert.equal((await client.command(`EHLO ${HELO}`))?.code, 250);
    assert.equal(
      (await client.command(`MAIL FROM:<${SENDER}>`))?.text,
      '550 5.7.23 SPF of example.org does not allow 127.0.0.1 to send its mail\r\n',
    );
    // No transaction was opened: RCPT needs MAIL first.
    assert.equal((await client.command(`RCPT TO:<${ACCOUNT}>`))?.text, '503 5.5.1 Send MAIL first\r\n');
    assert.match((await client.command('QUIT'))?.text ?? '', /^221 /);
    await client.closedByServer();
    assert.equal(storedFiles(server.portico.dir, ACCOUNT).length, before, 'nothing stored');
    await server.portico.waitForLog((l) => l.msg === 'smtp: SPF at MAIL FROM' && String(l.client).startsWith('127.0.0.1:'));
    assert.deepEqual(spfLogged(server.portico, '127.0.0.1'), ['fail']);
  }));

  test('swaks directly from 127.0.0.1: the same refusal on the wire, swaks fails at MAIL', explained(async (t) => {
    explainOnFailure(t, 'portico', () => server.portico.process.output());
    const result = await send(server.direct, '127.0.0.1');
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.notEqual(result.code, 0);
    assert.match(result.transcript, /<\*\* +550 5\.7\.23 SPF of example\.org does not allow 127\.0\.0\.1 to send its mail/);
    assert.doesNotMatch(result.transcript, /queued as/);
  }));
});
