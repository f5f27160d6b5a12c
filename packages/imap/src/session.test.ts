import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuse } from '@portico/core';
import { Client, startHarness } from './test-support.ts';
import type { Harness } from './test-support.ts';

async function withClient(h: Harness, fn: (c: Client) => Promise<void>): Promise<void> {
  const c = await Client.connect(h.port);
  try {
    await fn(c);
  } finally {
    c.end();
    await h.close();
  }
}

const MESSAGE = 'From: a@example.org\r\nSubject: one\r\n\r\nHello\r\n';

test('plaintext: greeting says LOGINDISABLED and STARTTLS; LOGIN and AUTHENTICATE answer NO [PRIVACYREQUIRED]', async () => {
  const h = await startHarness({ starttls: true });
  await withClient(h, async (c) => {
    assert.equal(await c.greeting(), '* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED UNSELECT] mail.example.test IMAP4rev1 Portico ready\r\n');
    assert.match(await c.command('a', 'LOGIN alice@example.test "secret pass"'), /^a NO \[PRIVACYREQUIRED\] /);
    assert.match(await c.command('b', 'AUTHENTICATE PLAIN'), /^b NO \[PRIVACYREQUIRED\] /);
    assert.equal(h.events.length, 0, 'refusing clear text is not a failed login');
    // STARTTLS; anything pipelined after it is discarded (not run over TLS).
    c.write('c STARTTLS\r\nd LOGIN alice@example.test "secret pass"\r\n');
    assert.equal(await c.until((l) => l.startsWith('c ')), 'c OK Begin TLS negotiation now\r\n');
    await c.upgradeTls();
    assert.equal(await c.command('e', 'CAPABILITY'), '* CAPABILITY IMAP4rev1 AUTH=PLAIN UNSELECT\r\ne OK CAPABILITY completed\r\n');
    assert.match(await c.command('f', 'SELECT INBOX'), /^f BAD Command not valid in this state/m);
    assert.equal(await c.command('g', 'LOGIN alice@example.test "secret pass"'), 'g OK Logged in\r\n');
  });
});

test('LOGIN with literals, failures as auth-failure events, AUTHENTICATE PLAIN with continuation', async () => {
  const h = await startHarness({ encrypted: true });
  await withClient(h, async (c) => {
    await c.greeting();
    assert.equal(await c.command('a', 'LOGIN " Alice@Example.test" wrong'), 'a NO [AUTHENTICATIONFAILED] Authentication failed\r\n');
    assert.deepEqual(h.events.map((e) => [e.kind, e.reason, e.account]), [['auth-failure', 'imap-auth', 'alice@example.test']]);
    c.write('b LOGIN {18}\r\n');
    assert.equal(await c.until(() => true), '+ Ready for literal data\r\n');
    c.write('alice@example.test {11}\r\n');
    assert.equal(await c.until(() => true), '+ Ready for literal data\r\n');
    assert.equal(await (c.write('secret pass\r\n'), c.until((l) => l.startsWith('b '))), 'b OK Logged in\r\n');
  });
  const h2 = await startHarness({ encrypted: true });
  await withClient(h2, async (c) => {
    await c.greeting();
    c.write('a AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.until(() => true), '+ \r\n');
    assert.equal(await (c.write(Buffer.from('\0alice@example.test\0secret pass').toString('base64') + '\r\n'), c.until((l) => l.startsWith('a '))), 'a OK Logged in\r\n');
  });
});

test('admitLogin is asked before the password: temporary -> NO [LIMIT], permanent -> NO [AUTHENTICATIONFAILED]', async () => {
  let temporary = true;
  const asked: string[] = [];
  const h = await startHarness({
    encrypted: true,
    options: { admitLogin: async (_info, account) => (asked.push(account), refuse('auth-rate', 'Too many failed logins, try later', temporary)) },
  });
  await withClient(h, async (c) => {
    await c.greeting();
    assert.equal(await c.command('a', 'LOGIN Alice@example.test "secret pass"'), 'a NO [LIMIT] Too many failed logins, try later\r\n');
    temporary = false;
    assert.equal(await c.command('b', 'LOGIN alice@example.test "secret pass"'), 'b NO [AUTHENTICATIONFAILED] Too many failed logins, try later\r\n');
    assert.deepEqual(asked, ['alice@example.test', 'alice@example.test']);
  });
});

test('SELECT, SEARCH, FETCH bytes, STORE, EXPUNGE, UID commands', async () => {
  const h = await startHarness({ encrypted: true });
  h.mailbox.add(MESSAGE, ['\\Seen']);
  h.mailbox.add('Subject: two\r\n\r\nSecond\r\n');
  await withClient(h, async (c) => {
    await c.greeting();
    await c.command('a', 'LOGIN alice@example.test "secret pass"');
    assert.equal(await c.command('l', 'LIST "" *'), '* LIST (\\HasNoChildren) "/" INBOX\r\nl OK LIST completed\r\n');
    assert.equal(await c.command('l2', 'LIST "" ""'), '* LIST (\\Noselect) "/" ""\r\nl2 OK LIST completed\r\n');
    assert.equal(await c.command('s', 'STATUS inbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)'), '* STATUS INBOX (MESSAGES 2 UNSEEN 1 UIDNEXT 3 UIDVALIDITY 1234)\r\ns OK STATUS completed\r\n');
    assert.equal(await c.command('x', 'SELECT Archive'), 'x NO [NONEXISTENT] Only INBOX exists\r\n');
    assert.equal(
      await c.command('b', 'SELECT INBOX'),
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Flags permitted\r\n' +
        '* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 2] First unseen message\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\nb OK [READ-WRITE] SELECT completed\r\n',
    );
    assert.equal(await c.command('c', 'SEARCH UNSEEN'), '* SEARCH 2\r\nc OK SEARCH completed\r\n');
    assert.equal(await c.command('c2', 'UID SEARCH ALL'), '* SEARCH 1 2\r\nc2 OK UID SEARCH completed\r\n');
    assert.match(await c.command('c3', 'SEARCH FROM x'), /^c3 NO \[CANNOT\] Search key FROM is not supported/);
    assert.equal(
      await c.command('d', 'FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[])'),
      `* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE ${MESSAGE.length} INTERNALDATE "02-Jan-2026 03:04:05 +0000" BODY[] {${MESSAGE.length}}\r\n${MESSAGE})\r\nd OK FETCH completed\r\n`,
    );
    assert.equal(await c.command('e', 'UID FETCH 2:* BODY.PEEK[HEADER]'), '* 2 FETCH (UID 2 BODY[HEADER] {16}\r\nSubject: two\r\n\r\n)\r\ne OK UID FETCH completed\r\n');
    assert.deepEqual(h.mailbox.messages[1]!.flags, [], 'PEEK does not set \\Seen');
    assert.equal(await c.command('f', 'FETCH 2 BODY[TEXT]'), '* 2 FETCH (BODY[TEXT] {8}\r\nSecond\r\n FLAGS (\\Seen))\r\nf OK FETCH completed\r\n');
    assert.deepEqual(h.mailbox.messages[1]!.flags, ['\\Seen']);
    assert.equal(await c.command('g', 'STORE 1:2 +FLAGS (\\Flagged)'), '* 1 FETCH (FLAGS (\\Flagged \\Seen))\r\n* 2 FETCH (FLAGS (\\Flagged \\Seen))\r\ng OK STORE completed\r\n');
    assert.equal(await c.command('h', 'UID STORE 1 -FLAGS.SILENT (\\Seen \\Flagged)'), 'h OK UID STORE completed\r\n');
    assert.equal(await c.command('i', 'UID STORE 2 FLAGS (\\Deleted $Junk)'), '* 2 FETCH (UID 2 FLAGS (\\Deleted))\r\ni OK UID STORE completed\r\n');
    assert.equal(await c.command('j', 'EXPUNGE'), '* 2 EXPUNGE\r\nj OK EXPUNGE completed\r\n');
    assert.deepEqual(h.mailbox.messages.map((m) => m.uid), [1]);
    // New mail shows up at NOOP.
    h.mailbox.add('Subject: three\r\n\r\n3\r\n');
    assert.equal(await c.command('k', 'NOOP'), '* 2 EXISTS\r\nk OK NOOP completed\r\n');
    assert.equal(await c.command('m', 'FETCH 2 UID'), '* 2 FETCH (UID 3)\r\nm OK FETCH completed\r\n');
    assert.equal(await c.command('n', 'EXAMINE INBOX').then((r) => r.split('\r\n').at(-2)), 'n OK [READ-ONLY] EXAMINE completed');
    assert.equal(await c.command('o', 'STORE 1 +FLAGS (\\Seen)'), 'o NO [READ-ONLY] Mailbox was opened with EXAMINE\r\n');
    assert.equal(await c.command('p', 'CLOSE'), 'p OK CLOSE completed\r\n');
    assert.equal(await c.command('q', 'LOGOUT'), '* BYE mail.example.test IMAP4rev1 Portico logging out\r\nq OK LOGOUT completed\r\n');
    await c.waitClosed();
    assert.deepEqual(h.closeReasons, ['logout']);
  });
});

test('limits: too many BAD -> BYE + scan event; long line -> BAD + limit event; oversized literal -> BAD; idle -> BYE + loiter', async () => {
  const h = await startHarness({ options: { limits: { maxErrors: 3, maxLineLength: 100, maxLiteralSize: 10 } } });
  await withClient(h, async (c) => {
    await c.greeting();
    assert.equal(await c.command('a', 'LOGIN {11}'), 'a BAD Literal too large\r\n');
    c.write(`b ${'x'.repeat(200)}\r\n`);
    assert.equal(await c.until(() => true), '* BAD Line too long\r\n');
    assert.equal(await c.command('c', 'FROB'), 'c BAD Unknown command\r\n* BYE Too many errors\r\n'.split('\r\n')[0] + '\r\n');
    assert.equal(await c.until(() => true), '* BYE Too many errors\r\n');
    await c.waitClosed();
    assert.deepEqual(h.events.map((e) => `${e.kind}:${e.reason}`), ['limit:literal-too-large', 'limit:line-too-long', 'scan:too-many-errors']);
  });
  const idle = await startHarness({ options: { limits: { idleTimeoutMs: 50 } } });
  await withClient(idle, async (c) => {
    await c.greeting();
    assert.equal(await c.until(() => true), '* BYE Autologout; idle for too long\r\n');
    await c.waitClosed();
    assert.deepEqual(idle.events.map((e) => `${e.kind}:${e.reason}`), ['loiter:idle-timeout']);
    assert.deepEqual(idle.closeReasons, ['timeout']);
  });
});
