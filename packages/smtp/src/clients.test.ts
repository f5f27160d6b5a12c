import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { makeCertificate, startHarness } from './test-support.ts';
import type { Harness, TestCert } from './test-support.ts';

/** Real clients as subprocesses (asynchronously: the server runs in this process). */
function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const swaks = (port: number, ...args: string[]) =>
  run('swaks', ['--server', `127.0.0.1:${port}`, '--helo', 'swaks.example.org', '--timeout', '10', ...args]);

let cert: TestCert;
let mx: Harness;
let submission: Harness;
let implicit: Harness;
before(async () => {
  cert = makeCertificate();
  mx = await startHarness({ cert, starttls: true });
  submission = await startHarness({ cert, starttls: true, mode: 'submission' });
  implicit = await startHarness({ cert, implicitTls: true, mode: 'submission' });
});
after(async () => {
  await mx.close();
  await submission.close();
  await implicit.close();
});

function last(h: Harness): string {
  const message = h.stored.at(-1);
  assert.ok(message, 'a message was stored');
  return message.text;
}

test('swaks plain: stored, Received names the client address and says ESMTP', async () => {
  const r = await swaks(mx.port, '--to', 'alice@example.test', '--from', 'x@example.org');
  assert.equal(r.code, 0, r.output);
  assert.match(last(mx), /^Return-Path: <x@example\.org>\r\nReceived: from swaks\.example\.org \(\[192\.0\.2\.55\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTP\r\n/);
  assert.match(last(mx), /This is a test mailing/);
});

test('swaks STARTTLS: ESMTPS with TLS version and cipher', async () => {
  const r = await swaks(mx.port, '--to', 'alice@example.test', '--from', 'x@example.org', '--tls');
  assert.equal(r.code, 0, r.output);
  assert.match(last(mx), /with ESMTPS \(TLSv1\.3, TLS_\w+\)\r\n/);
});

test('swaks --pipeline with a refused recipient among good ones', async () => {
  const before = mx.stored.length;
  const r = await swaks(mx.port, '--pipeline', '--to', 'alice@example.test,nobody@example.test,bob@example.test', '--from', 'x@example.org');
  assert.match(r.output, /550 5\.1\.1 No such user here/);
  assert.deepEqual(mx.stored.slice(before).map((m) => m.address), ['alice@example.test', 'bob@example.test']);
});

test('swaks: relaying refused with 554 5.7.1', async () => {
  const r = await swaks(mx.port, '--to', 'someone@elsewhere.example', '--from', 'x@example.org');
  assert.notEqual(r.code, 0);
  assert.match(r.output, /554 5\.7\.1 Relaying denied/);
});

test('swaks submission: AUTH PLAIN and LOGIN after STARTTLS give ESMTPSA; a wrong password is 535', async () => {
  for (const mechanism of ['PLAIN', 'LOGIN']) {
    const r = await swaks(submission.port, '--tls', '--auth', mechanism, '--auth-user', 'alice@example.test', '--auth-password', 'secret',
      '--to', 'bob@example.test', '--from', 'alice@example.test');
    assert.equal(r.code, 0, r.output);
    assert.match(last(submission), /with ESMTPSA \(TLSv1\.3, TLS_\w+\)\r\n/);
  }
  const bad = await swaks(submission.port, '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.test', '--auth-password', 'nope',
    '--to', 'bob@example.test', '--from', 'alice@example.test');
  assert.notEqual(bad.code, 0);
  assert.match(bad.output, /535 5\.7\.8/);
  assert.ok(submission.events.some((e) => e.kind === 'auth-failure' && e.account === 'alice@example.test'));
});

test('swaks submission without TLS: AUTH is not offered', async () => {
  const r = await swaks(submission.port, '--auth', 'PLAIN', '--auth-user', 'alice@example.test', '--auth-password', 'secret',
    '--to', 'bob@example.test', '--from', 'alice@example.test');
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.output, /235 2\.7\.0/);
});

test('swaks implicit TLS (port 465 style) with AUTH', async () => {
  const r = await swaks(implicit.port, '--tls-on-connect', '--auth', 'PLAIN', '--auth-user', 'bob@example.test', '--auth-password', 'hunter2',
    '--to', 'alice@example.test', '--from', 'bob@example.test');
  assert.equal(r.code, 0, r.output);
  assert.match(last(implicit), /with ESMTPSA \(TLSv1\.3, /);
});

const PYTHON = `
import smtplib, ssl, sys
port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example.org', timeout=10)
s.starttls(context=ctx)
s.ehlo('py.example.org')
if mode == 'submission':
    s.login('alice@example.test', 'secret')
    sender = 'alice@example.test'
else:
    sender = 'x@example.org'
refused = s.sendmail(sender, ['bob@example.test'], 'Subject: py\\r\\n\\r\\n.leading dot\\r\\nbare\\nlf\\r\\n')
print('refused', refused)
try:
    s.sendmail(sender, ['someone@elsewhere.example'], 'Subject: x\\r\\n\\r\\nx\\r\\n')
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients['someone@elsewhere.example']
    print('relay', code, text.decode())
s.quit()
`;

test('Python smtplib: STARTTLS, dot-stuffing and line endings survive, relaying refused', async () => {
  const r = await run('python3', ['-c', PYTHON, String(mx.port), 'smtp']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /refused \{\}/);
  assert.match(r.output, /relay 554 5\.7\.1 Relaying denied/);
  assert.match(last(mx), /with ESMTPS \(TLSv1\.3, [^)]+\)\r\n[\s\S]*\r\nSubject: py\r\n\r\n\.leading dot\r\nbare\r\nlf\r\n$/);
});

test('Python smtplib submission: login, send, remote recipient gets the relaying message', async () => {
  const r = await run('python3', ['-c', PYTHON, String(submission.port), 'submission']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /relay 550 5\.7\.1 Relaying to other domains is not offered yet/);
  assert.match(last(submission), /from py\.example\.org \(\[192\.0\.2\.55\]\)\r\n\tby mail\.example\.test \(Portico\) with ESMTPSA/);
});
