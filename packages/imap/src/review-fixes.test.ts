import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, startHarness } from './test-support.ts';
import type { Harness } from './test-support.ts';
import type { ImapOptions } from './types.ts';
import { matches } from './commands/list.ts';
import { MAX_DEPTH, ParseError, parseCommand, tokenize } from './parser.ts';
import { compileSearch } from './commands/search.ts';
import { parseFetchItems } from './fetch-items.ts';

async function session(h: Harness, fn: (c: Client) => Promise<void>, login = true): Promise<void> {
  const c = await Client.connect(h.port);
  try {
    await c.greeting();
    if (login) assert.equal(await c.command('L', 'LOGIN alice@example.test "secret pass"'), 'L OK Logged in\r\n');
    await fn(c);
  } finally {
    c.end();
    await h.close();
  }
}

test('LIST patterns match without backtracking: 100 wildcards then a mismatch answer at once', async () => {
  assert.ok(matches('*', 'INBOX') && matches('%', 'INBOX') && matches('in*x', 'INBOX') && matches('I%%B*O%X', 'INBOX'));
  assert.ok(!matches('%/x', 'INBOX') && !matches('INBOX/*', 'INBOX') && !matches('INBOXX', 'INBOX') && !matches('', 'INBOX'));
  assert.ok(matches('*/*', 'a/b') && !matches('%', 'a/b') && matches('a/%', 'a/b'));
  // The backtracking matcher took 25 s for 100 wildcards (and grew exponentially): these would time out.
  assert.equal(matches('*'.repeat(5000) + 'Z', 'INBOX'), false);
  const h = await startHarness({ encrypted: true });
  await session(h, async (c) => {
    assert.equal(await c.command('a', `LIST "" "${'*'.repeat(100)}Z"`), 'a OK LIST completed\r\n');
    assert.equal(await c.command('b', `LIST "" "${'%*'.repeat(100)}"`), '* LIST (\\HasNoChildren) "/" INBOX\r\nb OK LIST completed\r\n');
  });
});

test('nesting: lists deeper than MAX_DEPTH and deep NOT/OR chains are BAD, not a stack overflow', async () => {
  assert.equal(tokenize('('.repeat(MAX_DEPTH) + ')'.repeat(MAX_DEPTH)).length, 1);
  assert.throws(() => tokenize('('.repeat(MAX_DEPTH + 1) + ')'.repeat(MAX_DEPTH + 1)), /nested too deeply/);
  assert.throws(() => parseCommand('a LOGIN ' + '('.repeat(4000)), (e: unknown) => e instanceof ParseError && e.tag === 'a');
  assert.throws(() => compileSearch(tokenize('NOT '.repeat(1000) + 'ALL'), 1, 1), /nested too deeply/);
  assert.throws(() => compileSearch(tokenize('OR '.repeat(1000) + 'ALL ALL'), 1, 1), /nested too deeply/);
  assert.ok(compileSearch(tokenize('NOT NOT (OR SEEN (NOT DELETED))'), 1, 1));
  const h = await startHarness({ encrypted: true });
  h.mailbox.add('Subject: x\r\n\r\nx\r\n');
  await session(h, async (c) => {
    assert.equal(await c.command('a', 'LOGIN ' + '('.repeat(4000)), 'a BAD Lists nested too deeply\r\n');
    await c.command('b', 'SELECT INBOX');
    assert.equal(await c.command('c', 'SEARCH ' + 'NOT '.repeat(1500) + 'ALL'), 'c BAD Search keys nested too deeply\r\n');
    assert.equal(await c.command('d', 'SEARCH ' + 'OR '.repeat(1500) + 'ALL ALL'), 'd BAD Search keys nested too deeply\r\n');
    assert.equal(await c.command('e', 'SEARCH NOT NOT ALL'), '* SEARCH 1\r\ne OK SEARCH completed\r\n');
  });
});

test('a too-long line while AUTHENTICATE waits for its response ends the AUTHENTICATE with a tagged BAD', async () => {
  const h = await startHarness({ encrypted: true, options: { limits: { maxLineLength: 200 } } });
  await session(h, async (c) => {
    c.write('a AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.until(() => true), '+ \r\n');
    c.write(`${'A'.repeat(400)}\r\n`);
    assert.equal(await c.until(() => true), 'a BAD Line too long\r\n');
    // The next line is a command again, not the SASL response.
    assert.equal(await c.command('b', 'LOGIN alice@example.test "secret pass"'), 'b OK Logged in\r\n');
    assert.deepEqual(h.events.map((e) => `${e.kind}:${e.reason}`), ['limit:line-too-long']);
  }, false);
});

test('FETCH: an item asked 600 times is answered once', async () => {
  const h = await startHarness({ encrypted: true });
  const body = 'Subject: x\r\n\r\nhello\r\n';
  h.mailbox.add(body);
  await session(h, async (c) => {
    await c.command('s', 'SELECT INBOX');
    assert.equal(
      await c.command('a', `FETCH 1 (${'BODY.PEEK[] '.repeat(600)}UID UID BODY[])`),
      `* 1 FETCH (BODY[] {${body.length}}\r\n${body} UID 1 FLAGS (\\Seen))\r\na OK FETCH completed\r\n`,
    );
  });
});

test('FETCH ENVELOPE, BODYSTRUCTURE, BODY, FULL and MIME part sections over the wire', async () => {
  assert.ok('error' in (parseFetchItems(tokenize('(BODY[1] NONSENSE)')) as object), 'a real syntax error stays BAD');
  const h = await startHarness({ encrypted: true });
  const message = [
    'From: A <a@x.test>',
    'Subject: two parts',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'hello',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    'AAEC',
    '--b--',
    '',
  ].join('\r\n');
  h.mailbox.add(message);
  await session(h, async (c) => {
    await c.command('s', 'SELECT INBOX');
    const env = '(NIL "two parts" (("A" NIL "a" "x.test")) (("A" NIL "a" "x.test")) (("A" NIL "a" "x.test")) NIL NIL NIL NIL NIL)';
    const text = '("text" "plain" NIL NIL NIL "7BIT" 5 1';
    const octets = '("application" "octet-stream" NIL NIL NIL "base64" 4';
    assert.equal(
      await c.command('a', 'FETCH 1 (ENVELOPE BODYSTRUCTURE BODY)'),
      `* 1 FETCH (ENVELOPE ${env} BODYSTRUCTURE (${text} NIL NIL NIL NIL)${octets} NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL) ` +
        `BODY (${text})${octets}) "mixed"))\r\na OK FETCH completed\r\n`,
    );
    assert.equal(
      await c.command('b', 'UID FETCH 1 (BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[1]<1.3> BODY.PEEK[3])'),
      '* 1 FETCH (UID 1 BODY[2] {4}\r\nAAEC BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n ' +
        'BODY[1]<1> {3}\r\nell BODY[3] NIL)\r\nb OK UID FETCH completed\r\n',
    );
    assert.match(await c.command('c', 'FETCH 1 FULL'), /^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+ ENVELOPE \(NIL "two parts" .* BODY \(.*"mixed"\)\)\r\nc OK/);
    assert.equal(await c.command('d', 'FETCH 1 BODY[2]'), '* 1 FETCH (BODY[2] {4}\r\nAAEC FLAGS (\\Seen))\r\nd OK FETCH completed\r\n');
    assert.equal(await c.command('e', 'FETCH 1 BODY[1.FOO]'), 'e BAD Body section [1.FOO] is not supported\r\n');
  });
});

test('store failures in FETCH, STORE, EXPUNGE, CLOSE: NO [UNAVAILABLE], the session goes on', async () => {
  const fail = async () => {
    throw new Error('EIO');
  };
  const h = await startHarness({ encrypted: true });
  h.mailbox.add('Subject: x\r\n\r\nx\r\n', ['\\Deleted']);
  await session(h, async (c) => {
    await c.command('s', 'SELECT INBOX');
    Object.assign(h.mailbox, { read: fail, setFlags: fail, expunge: fail });
    assert.match(await c.command('a', 'FETCH 1 BODY.PEEK[]'), /^a NO \[UNAVAILABLE\] /);
    assert.match(await c.command('b', 'STORE 1 +FLAGS (\\Seen)'), /^b NO \[UNAVAILABLE\] /);
    assert.match(await c.command('c', 'EXPUNGE'), /^c NO \[UNAVAILABLE\] /);
    assert.match(await c.command('d', 'CLOSE'), /^d NO \[UNAVAILABLE\] /);
    assert.equal(await c.command('e', 'FETCH 1 UID'), '* 1 FETCH (UID 1)\r\ne OK FETCH completed\r\n', 'still selected');
    assert.deepEqual(h.closeReasons, []);
  });
});

test('idle timeout: loginTimeoutMs before login and while a literal is awaited after login', async () => {
  const limits: Partial<ImapOptions['limits']> = { loginTimeoutMs: 100, idleTimeoutMs: 60_000 };
  const h = await startHarness({ encrypted: true, options: { limits } });
  await session(h, async (c) => {
    assert.equal(await c.until(() => true), '* BYE Autologout; idle for too long\r\n');
  }, false);
  const h2 = await startHarness({ encrypted: true, options: { limits } });
  await session(h2, async (c) => {
    // A literal announced after login is awaited with the short timeout.
    c.write('x LOGIN {5}\r\n');
    assert.equal(await c.until(() => true), '+ Ready for literal data\r\n');
    assert.equal(await c.until(() => true), '* BYE Autologout; idle for too long\r\n');
  });
});

test('EXPUNGE and CLOSE use the flags the store has now (another session set \\Deleted)', async () => {
  const h = await startHarness({ encrypted: true });
  h.mailbox.add('Subject: 1\r\n\r\n1\r\n');
  h.mailbox.add('Subject: 2\r\n\r\n2\r\n');
  h.mailbox.add('Subject: 3\r\n\r\n3\r\n');
  await session(h, async (c) => {
    await c.command('s', 'SELECT INBOX');
    h.mailbox.messages[1]!.flags = ['\\Deleted'];
    assert.equal(await c.command('a', 'EXPUNGE'), '* 2 EXPUNGE\r\na OK EXPUNGE completed\r\n');
    assert.deepEqual(h.mailbox.messages.map((m) => m.uid), [1, 3]);
    h.mailbox.messages[0]!.flags = ['\\Deleted'];
    assert.equal(await c.command('b', 'CLOSE'), 'b OK CLOSE completed\r\n');
    assert.deepEqual(h.mailbox.messages.map((m) => m.uid), [3]);
  });
});
