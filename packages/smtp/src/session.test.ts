import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW, refuse } from '@portico/core';
import { RawClient, makeCertificate, startHarness } from './test-support.ts';
import type { Harness, TestCert } from './test-support.ts';

let cert: TestCert;
let smtp: Harness;
before(async () => {
  cert = makeCertificate();
  smtp = await startHarness({ cert, starttls: true });
});
after(() => smtp.close());

async function greeted(h: Harness = smtp): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  assert.equal(await c.reply(), '220 mail.example.test ESMTP Portico');
  return c;
}

test('greeting and EHLO extensions (plain smtp listener: STARTTLS, no AUTH)', async () => {
  const c = await greeted();
  assert.equal(
    await c.command('EHLO client.example.org'),
    [
      '250-mail.example.test greets client.example.org [192.0.2.55]',
      '250-PIPELINING',
      '250-SIZE 26214400',
      '250-8BITMIME',
      '250-CHUNKING',
      '250-ENHANCEDSTATUSCODES',
      '250-STARTTLS',
      '250 SMTPUTF8',
    ].join('\n'),
  );
  assert.equal(await c.command('HELO client.example.org'), '250 mail.example.test greets client.example.org');
  assert.equal(await c.command('NOOP'), '250 2.0.0 OK');
  assert.equal(await c.command('VRFY alice'), '252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery');
  assert.match(await c.command('HELP'), /^214 2\.0\.0 /);
  assert.equal(await c.command('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), '502 5.5.1 Command not implemented');
  assert.equal(await c.command('QUIT'), '221 2.0.0 mail.example.test closing connection');
  await c.waitClosed();
});

test('a message is stored with Return-Path, Received naming the real client (not the peer), dot-unstuffed', async () => {
  const c = await greeted();
  await c.command('EHLO client.example.org');
  assert.equal(await c.command('MAIL FROM:<x@example.org> SIZE=100 BODY=8BITMIME'), '250 2.1.0 Sender OK');
  assert.equal(await c.command('RCPT TO:<Alice@example.test>'), '250 2.1.5 Recipient OK');
  assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
  const before = smtp.stored.length;
  const reply = await c.command('Subject: hi\r\n\r\n..leading dot\r\nline\r\n.');
  assert.match(reply, /^250 2\.0\.0 OK: queued as [A-Za-z0-9_-]{12}$/);
  const stored = smtp.stored.slice(before);
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.address, 'Alice@example.test');
  const text = stored[0]!.text;
  const id = reply.split(' ').at(-1)!;
  assert.match(
    text,
    new RegExp(
      `^Return-Path: <x@example\\.org>\\r\\nReceived: from client\\.example\\.org \\(\\[192\\.0\\.2\\.55\\]\\)\\r\\n\\tby mail\\.example\\.test \\(Portico\\) with ESMTP\\r\\n\\tid ${id} for <Alice@example\\.test>;\\r\\n\\t\\w{3}, \\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\\r\\nSubject: hi\\r\\n\\r\\n\\.leading dot\\r\\nline\\r\\n$`,
    ),
  );
  assert.ok(!text.includes('127.0.0.1'), 'the socket peer never appears');
  c.end();
});

test('recipients: unknown user 550 5.1.1, other domain 554 5.7.1, limits and sequence errors', async () => {
  const h = await startHarness({ options: { limits: { maxRecipients: 2 } } });
  try {
    const c = await greeted(h);
    assert.equal(await c.command('MAIL FROM:<x@example.org>'), '503 5.5.1 Send EHLO or HELO first');
    await c.command('EHLO c.example.org');
    assert.equal(await c.command('RCPT TO:<alice@example.test>'), '503 5.5.1 Send MAIL first');
    assert.equal(await c.command('DATA'), '503 5.5.1 Send MAIL first');
    assert.equal(await c.command('MAIL FROM:x@example.org'), '501 5.5.4 Syntax error: expected MAIL FROM:<address>');
    assert.equal(await c.command('MAIL FROM:<>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('MAIL FROM:<y@example.org>'), '503 5.5.1 Sender already given');
    assert.equal(await c.command('DATA'), '554 5.5.1 No valid recipients');
    assert.equal(await c.command('RCPT TO:<nobody@example.test>'), '550 5.1.1 No such user here');
    assert.equal(await c.command('RCPT TO:<someone@elsewhere.example>'), '554 5.7.1 Relaying denied');
    assert.equal(await c.command('RCPT TO:<alice@EXAMPLE.test> NOTIFY=NEVER'), '555 5.5.4 Unsupported parameter NOTIFY');
    assert.equal(await c.command('RCPT TO:<not an address>'), '501 5.1.3 Bad address syntax');
    c.end();
    const d = await greeted(h);
    await d.command('EHLO c.example.org');
    await d.command('MAIL FROM:<>');
    assert.equal(await d.command('RCPT TO:<alice@example.test>'), '250 2.1.5 Recipient OK');
    assert.equal(await d.command('RCPT TO:<bob@example.test>'), '250 2.1.5 Recipient OK');
    assert.equal(await d.command('RCPT TO:<BOB@example.test>'), '250 2.1.5 Recipient OK', 'a repeat: one copy, not counted');
    assert.equal(await d.command('RCPT TO:<Postmaster>'), '452 4.5.3 Too many recipients');
    const limits = h.events.filter((e) => e.kind === 'limit');
    assert.deepEqual(limits.map((e) => [e.reason, e.connection.client.address]), [['too-many-recipients', '192.0.2.55']]);
    assert.equal(await d.command('RSET'), '250 2.0.0 Reset OK');
    assert.equal(await d.command('RCPT TO:<alice@example.test>'), '503 5.5.1 Send MAIL first');
    d.write('BDAT 10 LAST\r\n0123456789');
    assert.equal(await d.reply(), '503 5.5.1 Send MAIL first');
    assert.equal(await d.command('MAIL FROM:<ü@example.org>'), '553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter');
    assert.equal(await d.command('MAIL FROM:<ü@example.org> SMTPUTF8'), '250 2.1.0 Sender OK');
    d.end();
  } finally {
    await h.close();
  }
});

test('SIZE: declared size checked at MAIL, actual size enforced while streaming; nothing stored', async () => {
  const h = await startHarness({ options: { limits: { maxMessageSize: 1000 } } });
  try {
    const c = await greeted(h);
    await c.command('EHLO c.example.org');
    assert.equal(await c.command('MAIL FROM:<x@example.org> SIZE=1001'), '552 5.3.4 Message size exceeds fixed maximum message size of 1000 bytes');
    assert.equal(await c.command('MAIL FROM:<x@example.org> SIZE=10'), '250 2.1.0 Sender OK');
    await c.command('RCPT TO:<alice@example.test>');
    assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    c.write(('x'.repeat(99) + '\r\n').repeat(30));
    assert.equal(await c.command('.'), '552 5.3.4 Message size exceeds fixed maximum message size of 1000 bytes');
    assert.equal(h.stored.length, 0);
    // The session goes on: a small message still works.
    await c.command('MAIL FROM:<x@example.org>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    assert.match(await c.command('small\r\n.'), /^250 /);
    assert.equal(h.stored.length, 1);
    c.end();
  } finally {
    await h.close();
  }
});

test('PIPELINING: a whole transaction in one write gets its replies in order', async () => {
  const c = await greeted();
  const before = smtp.stored.length;
  c.write('EHLO p.example.org\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
  assert.match(await c.reply(), /^250-mail\.example\.test/);
  assert.equal(await c.reply(), '250 2.1.0 Sender OK');
  assert.equal(await c.reply(), '250 2.1.5 Recipient OK');
  assert.equal(await c.reply(), '550 5.1.1 No such user here');
  assert.equal(await c.reply(), '250 2.1.5 Recipient OK');
  assert.equal(await c.reply(), '354 End data with <CR><LF>.<CR><LF>');
  c.write('Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  assert.match(await c.reply(), /^250 2\.0\.0 OK: queued as /);
  assert.equal(await c.reply(), '221 2.0.0 mail.example.test closing connection');
  const stored = smtp.stored.slice(before);
  assert.deepEqual(stored.map((s) => s.address), ['alice@example.test', 'bob@example.test']);
  assert.ok(!stored[0]!.text.includes(' for <'), 'no "for" clause with several recipients');
});

test('a failed store answers 451 4.3.0', async () => {
  const h = await startHarness({ failDelivery: true });
  try {
    const c = await greeted(h);
    await c.command('EHLO c.example.org');
    await c.command('MAIL FROM:<x@example.org>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    assert.equal(await c.command('hello\r\n.'), '451 4.3.0 Temporary failure storing the message, try again later');
    c.end();
  } finally {
    await h.close();
  }
});

test('STARTTLS: pipelined input after it is discarded, EHLO required again, Received says ESMTPS with version and cipher', async () => {
  const c = await greeted();
  await c.command('EHLO c.example.org');
  c.write('STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n');
  assert.equal(await c.reply(), '220 2.0.0 Ready to start TLS');
  await c.upgradeTls();
  assert.equal(await c.command('MAIL FROM:<x@example.org>'), '503 5.5.1 Send EHLO or HELO first');
  const ehlo = await c.command('EHLO c.example.org');
  assert.ok(!ehlo.includes('STARTTLS'));
  assert.equal(await c.command('STARTTLS'), '503 5.5.1 TLS already active');
  assert.equal(await c.command('MAIL FROM:<x@example.org>'), '250 2.1.0 Sender OK');
  await c.command('RCPT TO:<bob@example.test>');
  await c.command('DATA');
  const before = smtp.stored.length;
  assert.match(await c.command('Subject: tls\r\n\r\nhi\r\n.'), /^250 /);
  const text = smtp.stored[before]!.text;
  assert.match(text, /Received: from c\.example\.org \(\[192\.0\.2\.55\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTPS \(TLSv1\.3, TLS_AES_\w+\)\r\n/);
  assert.ok(!text.includes('injected'));
  c.end();
});

test('submission: AUTH only when encrypted (538 otherwise), MAIL before AUTH 530', async () => {
  const h = await startHarness({ mode: 'submission' });
  try {
    const c = await greeted(h);
    const ehlo = await c.command('EHLO c.example.org');
    assert.ok(!ehlo.includes('AUTH'));
    assert.equal(await c.command('AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ='), '538 5.7.11 Encryption required for requested authentication mechanism');
    assert.equal(await c.command('MAIL FROM:<alice@example.test>'), '530 5.7.0 Authentication required');
    c.end();
  } finally {
    await h.close();
  }
});

test('submission behind a TLS-terminating proxy: AUTH PLAIN/LOGIN, sender ownership, no relaying, ESMTPSA', async () => {
  const h = await startHarness({ mode: 'submission', proxyTls: { terminatedBy: 'proxy', version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } });
  try {
    const c = await greeted(h);
    assert.match(await c.command('EHLO c.example.org'), /\n250-AUTH PLAIN LOGIN\n/);
    const bad = Buffer.from('\0alice@example.test\0wrong').toString('base64');
    assert.equal(await c.command(`AUTH PLAIN ${bad}`), '535 5.7.8 Authentication credentials invalid');
    assert.equal(h.events.length, 1);
    assert.equal(h.events[0]!.kind, 'auth-failure');
    assert.equal(h.events[0]!.account, 'alice@example.test');
    assert.equal(h.events[0]!.connection.client.address, '192.0.2.55');
    assert.ok(!JSON.stringify(h.events).includes('wrong'), 'no password in events');
    assert.equal(await c.command('AUTH PLAIN'), '334 ');
    assert.equal(await c.command(Buffer.from('\0alice@example.test\0secret').toString('base64')), '235 2.7.0 Authentication successful');
    assert.equal(await c.command('AUTH PLAIN'), '503 5.5.1 Already authenticated');
    assert.equal(await c.command('MAIL FROM:<bob@example.test>'), '553 5.7.1 Sender address is not owned by alice@example.test');
    assert.equal(await c.command('MAIL FROM:<Alice@example.test>'), '250 2.1.0 Sender OK');
    assert.equal(await c.command('RCPT TO:<friend@elsewhere.example>'), '550 5.7.1 Relaying to other domains is not offered yet');
    assert.equal(await c.command('RCPT TO:<bob@example.test>'), '250 2.1.5 Recipient OK');
    await c.command('DATA');
    assert.match(await c.command('Subject: sub\r\n\r\nhi\r\n.'), /^250 /);
    assert.match(h.stored[0]!.text, /with ESMTPSA \(TLSv1\.3, TLS_AES_128_GCM_SHA256, TLS terminated by proxy\)/);
    c.end();

    const d = await greeted(h);
    await d.command('EHLO d.example.org');
    assert.equal(await d.command('AUTH LOGIN'), '334 VXNlcm5hbWU6');
    assert.equal(await d.command(Buffer.from('bob@example.test').toString('base64')), '334 UGFzc3dvcmQ6');
    assert.equal(await d.command(Buffer.from('hunter2').toString('base64')), '235 2.7.0 Authentication successful');
    d.end();
    const e = await greeted(h);
    await e.command('EHLO e.example.org');
    assert.equal(await e.command('AUTH LOGIN'), '334 VXNlcm5hbWU6');
    assert.equal(await e.command('*'), '501 5.0.0 Authentication cancelled');
    assert.equal(await e.command('AUTH CRAM-MD5'), '504 5.5.4 Unrecognized authentication mechanism');
    e.end();
  } finally {
    await h.close();
  }
});

test('idle timeout before any command: 421, closed, loiter event', async () => {
  const h = await startHarness({ options: { limits: { commandTimeoutMs: 200 } } });
  try {
    const c = await greeted(h);
    assert.equal(await c.reply(), '421 4.4.2 mail.example.test Error: timeout exceeded');
    await c.waitClosed();
    assert.deepEqual(h.events.map((e) => [e.kind, e.reason]), [['loiter', 'idle-timeout']]);
    assert.deepEqual(h.closeReasons, ['timeout']);
    // A client that stalls in the middle of DATA is cut off too (no loiter event: it did something,
    // but a limit event).
    const d = await greeted(h);
    await d.command('EHLO c.example.org');
    await d.command('MAIL FROM:<x@example.org>');
    await d.command('RCPT TO:<alice@example.test>');
    await d.command('DATA');
    d.write('partial line');
    assert.equal(await d.reply(), '421 4.4.2 mail.example.test Error: timeout exceeded');
    await d.waitClosed();
    assert.deepEqual(h.events.map((e) => [e.kind, e.reason]), [['loiter', 'idle-timeout'], ['limit', 'command-timeout']]);
  } finally {
    await h.close();
  }
});

test('too many errors: 421 and a scan event; over-long lines are refused', async () => {
  const h = await startHarness({ options: { limits: { maxErrors: 3, maxLineLength: 100 } } });
  try {
    const c = await greeted(h);
    assert.equal(await c.command('GET / HTTP/1.1'), '500 5.5.1 Unrecognized command');
    assert.equal(await c.command('X'.repeat(500)), '500 5.5.2 Line too long');
    c.write('WHAT\r\n');
    assert.equal(await c.reply(), '500 5.5.1 Unrecognized command');
    assert.equal(await c.reply(), '421 4.7.0 mail.example.test Error: too many errors');
    await c.waitClosed();
    // The over-long line is also a limit event (logged, never counted towards a ban).
    assert.deepEqual(h.events.map((e) => [e.kind, e.reason]), [['limit', 'line-too-long'], ['scan', 'too-many-errors']]);
  } finally {
    await h.close();
  }
});

test('admitMessage and mail authentication verdicts map to replies; Authentication-Results is stored', async () => {
  const seen: string[] = [];
  const h = await startHarness({
    options: {
      admitMessage: async (info, sender) => (sender === 'limited@example.org' ? refuse('rate-limit', 'Too many messages', true, 60) : ALLOW),
      mailAuth: {
        checkSpf: async ({ ip, sender }) => {
          seen.push(ip);
          if (sender.endsWith('@fail.example')) return { result: 'fail', verdict: refuse('spf-fail', 'SPF of fail.example does not allow 192.0.2.55', false) };
          if (sender.endsWith('@slow.example')) return { result: 'temperror', verdict: refuse('spf-temperror', 'SPF check failed temporarily', true) };
          return { result: 'pass', verdict: ALLOW };
        },
        authenticate: async ({ ip, message }) =>
          message.includes('reject-me')
            ? { header: '', verdict: refuse('dmarc-policy', 'DMARC policy of example.org rejects this message', false) }
            : { header: `Authentication-Results: mail.example.test;\r\n spf=pass smtp.mailfrom=example.org (ip ${ip})\r\n`, verdict: ALLOW },
        reverseName: async (ip) => (ip === '192.0.2.55' ? 'client.example.org' : undefined),
      },
    },
  });
  try {
    const c = await greeted(h);
    await c.command('EHLO c.example.org');
    assert.equal(await c.command('MAIL FROM:<limited@example.org>'), '451 4.7.1 Too many messages');
    assert.equal(await c.command('MAIL FROM:<x@fail.example>'), '550 5.7.23 SPF of fail.example does not allow 192.0.2.55');
    assert.equal(await c.command('MAIL FROM:<x@slow.example>'), '451 4.7.24 SPF check failed temporarily');
    assert.equal(await c.command('MAIL FROM:<x@example.org>'), '250 2.1.0 Sender OK');
    assert.deepEqual([...new Set(seen)], ['192.0.2.55']);
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    assert.equal(await c.command('Subject: reject-me\r\n\r\nx\r\n.'), '550 5.7.1 DMARC policy of example.org rejects this message');
    await c.command('MAIL FROM:<x@example.org>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    assert.match(await c.command('Subject: fine\r\n\r\nx\r\n.'), /^250 /);
    const text = h.stored[0]!.text;
    assert.match(text, /^Return-Path: <x@example\.org>\r\nReceived: from c\.example\.org \(client\.example\.org \[192\.0\.2\.55\]\)\r\n/);
    assert.match(text, /\r\nAuthentication-Results: mail\.example\.test;\r\n spf=pass smtp\.mailfrom=example\.org \(ip 192\.0\.2\.55\)\r\nSubject: fine\r\n/);
    c.end();
  } finally {
    await h.close();
  }
});

test('implicit TLS listener: Received says ESMTPS; IPv6 client literal', async () => {
  const h = await startHarness({ cert, implicitTls: true, client: '2001:db8::25' });
  try {
    const c = await RawClient.connectTls(h.port);
    assert.equal(await c.reply(), '220 mail.example.test ESMTP Portico');
    assert.ok(!(await c.command('EHLO c.example.org')).includes('STARTTLS'));
    await c.command('MAIL FROM:<x@example.org>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    assert.match(await c.command('hi\r\n.'), /^250 /);
    assert.match(h.stored[0]!.text, /^Return-Path: <x@example\.org>\r\nReceived: from c\.example\.org \(\[IPv6:2001:db8::25\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTPS \(TLSv1\.3, /);
    c.end();
  } finally {
    await h.close();
  }
});

test('a client that sends everything and half-closes still gets every reply', async () => {
  const c = await greeted();
  const before = smtp.stored.length;
  c.write('EHLO h.example.org\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: fin\r\n\r\nx\r\n.\r\nQUIT\r\n');
  c.socket.end();
  assert.match(await c.reply(), /^250-/);
  assert.equal(await c.reply(), '250 2.1.0 Sender OK');
  assert.equal(await c.reply(), '250 2.1.5 Recipient OK');
  assert.equal(await c.reply(), '354 End data with <CR><LF>.<CR><LF>');
  assert.match(await c.reply(), /^250 2\.0\.0 OK: queued as /);
  assert.equal(await c.reply(), '221 2.0.0 mail.example.test closing connection');
  assert.equal(smtp.stored.length, before + 1);
});

test('CHUNKING: BDAT chunks are taken byte for byte, a terminator inside them is only content, LAST stores', async () => {
  const c = await greeted();
  const before = smtp.stored.length;
  await c.command('EHLO b.example.org');
  await c.command('MAIL FROM:<x@example.org>');
  await c.command('RCPT TO:<alice@example.test>');
  // The first chunk holds what would end DATA and a smuggled command: with BDAT both are content.
  const first = 'Subject: chunked\r\n\r\n.\r\nMAIL FROM:<evil@example.org>\r\n';
  c.write(`BDAT ${Buffer.byteLength(first)}\r\n${first}`);
  assert.equal(await c.reply(), `250 2.0.0 ${Buffer.byteLength(first)} octets received`);
  assert.equal(await c.command('DATA'), '503 5.5.1 DATA after BDAT; finish with BDAT <size> LAST');
  // Pipelined: the last chunk and the next command in one write.
  const last = 'end\r\n';
  c.write(`BDAT ${last.length} LAST\r\n${last}NOOP\r\n`);
  assert.match(await c.reply(), /^250 2\.0\.0 OK: queued as /);
  assert.equal(await c.reply(), '250 2.0.0 OK');
  const stored = smtp.stored.slice(before);
  assert.equal(stored.length, 1);
  assert.ok(stored[0]!.text.endsWith('Subject: chunked\r\n\r\n.\r\nMAIL FROM:<evil@example.org>\r\nend\r\n'), stored[0]!.text);
  c.end();
});

test('CHUNKING: a refused chunk is still read (never taken for commands); over SIZE is 552; a bad BDAT closes', async () => {
  const h = await startHarness({ options: { limits: { maxMessageSize: 100 } } });
  try {
    const c = await greeted(h);
    await c.command('EHLO b.example.org');
    // No transaction: 503, and the chunk's "QUIT" line is not obeyed.
    c.write('BDAT 6\r\nQUIT\r\nNOOP\r\n');
    assert.equal(await c.reply(), '503 5.5.1 Send MAIL first');
    assert.equal(await c.reply(), '250 2.0.0 OK');
    await c.command('MAIL FROM:<x@example.org>');
    await c.command('RCPT TO:<alice@example.test>');
    c.write(`BDAT 80\r\n${'x'.repeat(78)}\r\n`);
    assert.equal(await c.reply(), '250 2.0.0 80 octets received');
    c.write(`BDAT 40 LAST\r\n${'y'.repeat(38)}\r\n`);
    assert.equal(await c.reply(), '552 5.3.4 Message size exceeds fixed maximum message size of 100 bytes');
    assert.equal(h.stored.length, 0);
    // The chunk size is the only way to find the next command: without it the session ends.
    assert.equal(await c.command('BDAT lots'), '501 5.5.4 Syntax error: expected BDAT <size> [LAST]; closing, the chunk cannot be skipped');
    await c.waitClosed();
  } finally {
    await h.close();
  }
});

test('CHUNKING: a chunk that arrives a byte at a time, BDAT 0 LAST, and refusals that do not count as errors', async () => {
  const c = await greeted();
  const before = smtp.stored.length;
  await c.command('HELO b.example.org');
  c.write('BDAT 2\r\nhi');
  assert.equal(await c.reply(), '503 5.5.1 Send EHLO first: BDAT is an ESMTP extension');
  await c.command('EHLO b.example.org');
  // Twelve pipelined chunks without a transaction: twelve refusals, and the session goes on (maxErrors is 10).
  c.write('BDAT 3\r\nabc'.repeat(12));
  for (let i = 0; i < 12; i++) assert.equal(await c.reply(), '503 5.5.1 Send MAIL first');
  assert.equal(await c.command('NOOP'), '250 2.0.0 OK');
  await c.command('MAIL FROM:<x@example.org>');
  await c.command('RCPT TO:<alice@example.test>');
  const body = 'Subject: slow\r\n\r\nbyte by byte\r\n';
  c.write(`BDAT ${body.length}\r\n`);
  for (const byte of body) c.write(byte);
  assert.equal(await c.reply(), `250 2.0.0 ${body.length} octets received`);
  c.write('BDAT 0 LAST\r\n');
  assert.match(await c.reply(), /^250 2\.0\.0 OK: queued as /);
  const stored = smtp.stored.slice(before);
  assert.equal(stored.length, 1);
  assert.ok(stored[0]!.text.endsWith(`\r\n${body}`), stored[0]!.text);
  c.end();
});

test('postmaster (RFC 5321 4.5.1): bare and at a local domain, delivered once to the postmaster option; foreign postmaster is relaying', async () => {
  const h = await startHarness({ options: { postmaster: 'alice@example.test' } });
  try {
    const c = await greeted(h);
    await c.command('EHLO p.example.org');
    await c.command('MAIL FROM:<x@example.org>');
    assert.equal(await c.command('RCPT TO:<Postmaster>'), '250 2.1.5 Recipient OK');
    assert.equal(await c.command('RCPT TO:<POSTMASTER@Example.Test>'), '250 2.1.5 Recipient OK');
    assert.equal(await c.command('RCPT TO:<postmaster@elsewhere.example>'), '554 5.7.1 Relaying denied');
    await c.command('DATA');
    assert.match(await c.command('Subject: pm\r\n\r\nhello\r\n.'), /^250 /);
    assert.deepEqual(h.stored.map((s) => s.address), ['alice@example.test']);
    c.end();
  } finally {
    await h.close();
  }
});

test('admitLogin is asked with the normalised account before any password is checked; a refusal is 454 4.7.0', async () => {
  const asked: string[] = [];
  const h = await startHarness({
    mode: 'submission',
    proxyTls: { terminatedBy: 'proxy', version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
    options: {
      admitLogin: async (_info, account) => {
        asked.push(account);
        return account === 'alice@example.test' ? refuse('rate-limit:auth-failure', 'too many failed authentication attempts; try again in 60s', true, 60) : ALLOW;
      },
    },
  });
  try {
    const c = await greeted(h);
    await c.command('EHLO c.example.org');
    // Spaces and capitals do not make a new account (or a fresh failed-login budget).
    const padded = Buffer.from('\0 Alice@Example.test \0secret').toString('base64');
    assert.equal(await c.command(`AUTH PLAIN ${padded}`), '454 4.7.0 too many failed authentication attempts; try again in 60s');
    const bob = Buffer.from('\0bob@example.test\0hunter2').toString('base64');
    assert.equal(await c.command(`AUTH PLAIN ${bob}`), '235 2.7.0 Authentication successful');
    assert.deepEqual(asked, ['alice@example.test', 'bob@example.test']);
    assert.deepEqual(h.events, [], 'a refused login is not a failed one');
    c.end();
  } finally {
    await h.close();
  }
});
