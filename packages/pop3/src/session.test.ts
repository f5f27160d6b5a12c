import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW, refuse } from '@portico/core';
import { Pop3Client, plainResponse, startHarness } from './test-support.ts';
import type { Harness } from './test-support.ts';
import { handlePop3Session } from './session.ts';

const GREETING = '+OK mail.example.test POP3 Portico ready';
const M1 = 'Subject: one\r\n\r\nfirst body\r\n.starts with a dot\r\n';
const M2 = 'Subject: two\r\n\r\nl1\r\nl2\r\nl3\r\n';

let plain: Harness;
let proxied: Harness;
before(async () => {
  plain = await startHarness();
  proxied = await startHarness({ tls: 'proxy', messages: { 'alice@example.test': [M1, M2] } });
});
after(async () => {
  await plain.close();
  await proxied.close();
});

async function greeted(h: Harness, tls = false): Promise<Pop3Client> {
  const c = await Pop3Client.connect(h.port, tls);
  assert.equal(await c.line(), GREETING);
  return c;
}

test('unencrypted: CAPA offers STLS, not USER/SASL; USER, PASS and AUTH are refused with [AUTH]', async () => {
  const c = await greeted(plain);
  assert.deepEqual(await c.multi('CAPA'), ['+OK Capability list follows', 'TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\nIMPLEMENTATION Portico\r\n']);
  const refused = '-ERR [AUTH] Plaintext authentication is disallowed on unencrypted connections; use STLS';
  assert.equal(await c.command('USER alice@example.test'), refused);
  assert.equal(await c.command('PASS secret'), refused);
  assert.equal(await c.command(`AUTH PLAIN ${plainResponse('alice@example.test', 'secret')}`), refused);
  assert.equal(await c.command('STAT'), '-ERR Command not valid in this state');
  assert.equal(await c.command('XYZZY'), '-ERR Unknown command');
  assert.equal(plain.events.filter((e) => e.kind === 'auth-failure').length, 0, 'a refused plaintext login is no failed login');
  assert.equal(await c.command('QUIT'), '+OK mail.example.test POP3 Portico signing off');
  await c.waitClosed();
});

test('no certificate: the refusal says to connect with TLS, and STLS is not available', async () => {
  const h = await startHarness({ stls: false });
  try {
    const c = await greeted(h);
    assert.equal((await c.multi('CAPA'))[1].includes('STLS'), false);
    assert.equal(await c.command('USER a'), '-ERR [AUTH] Plaintext authentication is disallowed on unencrypted connections; connect with TLS');
    assert.equal(await c.command('STLS'), '-ERR TLS not available');
    c.end();
  } finally {
    await h.close();
  }
});

test('STLS: pipelined bytes are discarded, state restarts, then USER/PASS works; no STLS once encrypted', async () => {
  const h = await startHarness({ messages: { 'alice@example.test': [M1] } });
  try {
    const c = await greeted(h);
    c.socket.write('STLS\r\nUSER alice@example.test\r\n');
    assert.equal(await c.line(), '+OK Begin TLS negotiation');
    await c.upgradeTls();
    const capa = (await c.multi('CAPA'))[1];
    assert.match(capa, /\r\nUSER\r\nSASL PLAIN\r\n/);
    assert.doesNotMatch(capa, /STLS/);
    assert.equal(await c.command('PASS secret'), '-ERR Send USER first', 'the USER pipelined before the handshake was dropped');
    assert.equal(await c.command('STLS'), '-ERR Command not permitted when TLS active');
    assert.equal(await c.command('USER alice@example.test'), '+OK Send PASS');
    assert.equal(await c.command('PASS secret'), `+OK Logged in, maildrop has 1 message (${M1.length} octets)`);
    c.end();
  } finally {
    await h.close();
  }
});

test('implicit TLS: AUTH PLAIN with initial response and with the "+ " continuation; "*" cancels', async () => {
  const h = await startHarness({ tls: 'implicit', messages: { 'alice@example.test': [M1, M2] } });
  try {
    const c = await greeted(h, true);
    assert.equal(await c.command('AUTH PLAIN'), '+ ');
    assert.equal(await c.command('*'), '-ERR Authentication cancelled');
    assert.equal(await c.command('AUTH CRAM-MD5'), '-ERR Unsupported authentication mechanism');
    assert.deepEqual(await c.multi('AUTH'), ['+OK Supported SASL mechanisms follow', 'PLAIN\r\n']);
    assert.equal(await c.command('AUTH PLAIN'), '+ ');
    assert.equal(await c.command(plainResponse('Alice@Example.test ', 'secret')), `+OK Logged in, maildrop has 2 messages (${M1.length + M2.length} octets)`);
    assert.equal(await c.command('AUTH PLAIN'), '-ERR Command not valid in this state');
    assert.equal((await c.multi('CAPA'))[1], 'TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Portico\r\n');
    c.end();
    const d = await greeted(h, true);
    assert.equal(await d.command(`AUTH PLAIN ${plainResponse('bob@example.test', 'hunter2')}`), '+OK Logged in, maildrop has 0 messages (0 octets)');
    d.end();
  } finally {
    await h.close();
  }
});

test('failed logins: [AUTH] reply and an auth-failure event with the normalised account; never the password in logs', async () => {
  const c = await greeted(proxied);
  const before = proxied.events.length;
  assert.equal(await c.command('USER  Alice@Example.TEST'), '+OK Send PASS');
  assert.equal(await c.command('PASS wrong password'), '-ERR [AUTH] Authentication failed');
  assert.equal(await c.command(`AUTH PLAIN ${plainResponse('bob@example.test', 'nope')}`), '-ERR [AUTH] Authentication failed');
  assert.equal(await c.command('AUTH PLAIN !!!'), '-ERR Cannot decode the response');
  const failures = proxied.events.slice(before).filter((e) => e.kind === 'auth-failure');
  assert.deepEqual(failures.map((e) => [e.reason, e.account, e.connection.client.address]), [
    ['pop3-auth', 'alice@example.test', '192.0.2.55'],
    ['pop3-auth', 'bob@example.test', '192.0.2.55'],
  ]);
  assert.equal(JSON.stringify(proxied.logs).includes('wrong password'), false);
  assert.equal(JSON.stringify(proxied.logs).includes('nope'), false);
  c.end();
});

test('admitLogin: a temporary refusal is [SYS/TEMP], a permanent one [AUTH]; the password is not checked', async () => {
  let verdict = refuse('auth-failure-rate', 'Too many failed logins, try later', true);
  const checked: string[] = [];
  const h = await startHarness({
    tls: 'proxy',
    options: {
      accounts: { verify: async (a) => (checked.push(a), true) },
      admitLogin: async (_info, account) => (account === 'ok@example.test' ? ALLOW : verdict),
    },
  });
  try {
    const c = await greeted(h);
    assert.equal(await c.command(`AUTH PLAIN ${plainResponse('Alice@example.test', 'x')}`), '-ERR [SYS/TEMP] Too many failed logins, try later');
    verdict = refuse('banned', 'Go away', false);
    await c.command('USER alice@example.test');
    assert.equal(await c.command('PASS x'), '-ERR [AUTH] Go away');
    assert.deepEqual(checked, []);
    await c.command('USER ok@example.test');
    assert.match(await c.command('PASS x'), /^\+OK Logged in/);
    assert.deepEqual(checked, ['ok@example.test']);
    c.end();
  } finally {
    await h.close();
  }
});

test('TRANSACTION: STAT, LIST, UIDL, RETR byte-for-byte (dot-stuffed), TOP, DELE, RSET, NOOP, QUIT removes', async () => {
  const h = await startHarness({ tls: 'proxy', messages: { 'alice@example.test': [M1, M2, 'Subject: three\r\n\r\n3\r\n'] } });
  try {
    const keys = [...h.store.get('alice@example.test')!.keys()];
    const c = await greeted(h);
    await c.command('USER alice@example.test');
    assert.match(await c.command('PASS secret'), /^\+OK Logged in, maildrop has 3 messages/);
    const sizes = [M1.length, M2.length, 'Subject: three\r\n\r\n3\r\n'.length];
    assert.equal(await c.command('STAT'), `+OK 3 ${sizes[0]! + sizes[1]! + sizes[2]!}`);
    assert.deepEqual(await c.multi('LIST'), [`+OK 3 messages (${sizes[0]! + sizes[1]! + sizes[2]!} octets)`, `1 ${sizes[0]}\r\n2 ${sizes[1]}\r\n3 ${sizes[2]}\r\n`]);
    assert.equal(await c.command('LIST 2'), `+OK 2 ${sizes[1]}`);
    assert.equal(await c.command('LIST 4'), '-ERR No such message');
    assert.equal(await c.command('LIST x'), '-ERR Syntax error: message number expected');
    assert.deepEqual(await c.multi('UIDL'), ['+OK Unique-id listing follows', keys.map((k, i) => `${i + 1} ${k}\r\n`).join('')]);
    assert.equal(await c.command('UIDL 1'), `+OK 1 ${keys[0]}`);
    assert.deepEqual(await c.multi('RETR 1'), [`+OK ${M1.length} octets`, M1.replace('\r\n.starts', '\r\n..starts')]);
    assert.deepEqual(await c.multi('TOP 2 1'), ['+OK Top of message follows', 'Subject: two\r\n\r\nl1\r\n']);
    assert.equal(await c.command('TOP 2'), '-ERR Syntax error: TOP message lines');
    assert.equal(await c.command('DELE 1'), '+OK Message 1 deleted');
    assert.equal(await c.command('DELE 1'), '-ERR Message 1 already deleted');
    assert.equal(await c.command('RETR 1'), '-ERR Message 1 already deleted');
    assert.equal(await c.command('STAT'), `+OK 2 ${sizes[1]! + sizes[2]!}`);
    assert.equal(await c.command('RSET'), `+OK Maildrop has 3 messages (${sizes[0]! + sizes[1]! + sizes[2]!} octets)`);
    assert.equal(await c.command('DELE 1'), '+OK Message 1 deleted');
    assert.equal(await c.command('DELE 3'), '+OK Message 3 deleted');
    assert.equal(await c.command('NOOP'), '+OK');
    assert.equal(h.store.get('alice@example.test')!.size, 3, 'nothing removed before QUIT');
    assert.equal(await c.command('QUIT'), '+OK mail.example.test POP3 Portico signing off (2 messages deleted)');
    await c.waitClosed();
    assert.deepEqual([...h.store.get('alice@example.test')!.keys()], [keys[1]]);
  } finally {
    await h.close();
  }
});

test('pipelined commands are answered in order; a message removed meanwhile is -ERR, not a crash', async () => {
  const h = await startHarness({ tls: 'proxy', messages: { 'alice@example.test': [M1, M2] } });
  try {
    const c = await greeted(h);
    c.socket.write(`USER alice@example.test\r\nPASS secret\r\nSTAT\r\nDELE 2\r\nLIST\r\n`);
    assert.equal(await c.line(), '+OK Send PASS');
    assert.match(await c.line(), /^\+OK Logged in/);
    assert.equal(await c.line(), `+OK 2 ${M1.length + M2.length}`);
    assert.equal(await c.line(), '+OK Message 2 deleted');
    assert.equal(await c.line(), `+OK 1 message (${M1.length} octets)`);
    assert.equal((await c.multiline()).toString(), `1 ${M1.length}\r\n`);
    h.store.get('alice@example.test')!.clear();
    assert.equal(await c.command('RETR 1'), '-ERR Message is no longer available');
    c.end();
  } finally {
    await h.close();
  }
});

test('idle timeout without a command: -ERR [SYS/TEMP], loiter event, close; no DELE takes effect after a timeout', async () => {
  const h = await startHarness({ tls: 'proxy', messages: { 'alice@example.test': [M1] }, options: { limits: { idleTimeoutMs: 150 } } });
  try {
    const c = await greeted(h);
    assert.equal(await c.line(), '-ERR [SYS/TEMP] Disconnected for inactivity: idle timeout');
    await c.waitClosed();
    assert.equal(h.events.at(-1)?.kind, 'loiter');
    const d = await greeted(h);
    await d.command('USER alice@example.test');
    await d.command('PASS secret');
    assert.equal(await d.command('DELE 1'), '+OK Message 1 deleted');
    assert.equal(await d.line(), '-ERR [SYS/TEMP] Disconnected for inactivity: idle timeout');
    await d.waitClosed();
    assert.deepEqual([h.events.at(-1)?.kind, h.events.at(-1)?.reason], ['limit', 'idle-timeout']);
    assert.equal(h.store.get('alice@example.test')!.size, 1, 'autologout does not enter UPDATE');
    assert.deepEqual(h.closeReasons.slice(-2), ['timeout', 'timeout']);
  } finally {
    await h.close();
  }
});

test('too many errors closes with a scan event; an overlong line is -ERR and a limit event', async () => {
  const h = await startHarness({ options: { limits: { maxErrors: 3, maxLineLength: 64 } } });
  try {
    const c = await greeted(h);
    assert.equal(await c.command(`NOOP ${'x'.repeat(100)}`), '-ERR Line too long');
    assert.equal(await c.command('BOGUS'), '-ERR Unknown command');
    assert.equal(await c.command('BOGUS'), '-ERR Unknown command');
    assert.equal(await c.line(), '-ERR Too many errors, closing connection');
    await c.waitClosed();
    assert.deepEqual(h.events.map((e) => [e.kind, e.reason]), [['limit', 'line-too-long'], ['scan', 'too-many-errors']]);
    assert.equal(h.closeReasons.at(-1), 'too many errors');
  } finally {
    await h.close();
  }
});

test('invalid options are a wiring error (PORTICO_ERR_POP3_OPTIONS)', () => {
  assert.throws(
    () => handlePop3Session({} as never, { hostname: 'x', accounts: { verify: async () => false }, mailbox: {} as never, limits: { idleTimeoutMs: 0 } }),
    { code: 'PORTICO_ERR_POP3_OPTIONS' },
  );
});
