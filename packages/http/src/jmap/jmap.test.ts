import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { FakeMailbox, basic, fakeAccounts, harness, request, tlsFront } from '../test-support.ts';
import type { Harness } from '../test-support.ts';

const ALICE = 'alice@example.test';
const PASSWORD = 'correct horse';
const AUTH = basic(ALICE, PASSWORD);
const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];

const ALTERNATIVE = [
  'From: =?utf-8?Q?Bj=C3=B6rn?= <bjorn@sender.test>',
  'To: Alice <alice@example.test>, "Doe, Jane" <jane@example.test>',
  'Subject: =?utf-8?B?Q2Fmw6kg?= =?utf-8?Q?time?=',
  'Date: Tue, 17 Nov 2026 10:00:00 +0100',
  'Message-ID: <m1@sender.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/alternative; boundary="b1"',
  '',
  'preamble',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 at ten?=',
  ' See you.',
  '--b1',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Caf\u00e9 at ten? See you.</p>',
  '--b1--',
  '',
].join('\r\n');

const PLAIN = 'From: carol@sender.test\r\nTo: alice@example.test\r\nSubject: plain\r\nMessage-ID: <m2@sender.test>\r\n\r\nJust text.\r\n';

interface Jmap {
  h: Harness;
  mailbox: FakeMailbox;
  api(methodCalls: unknown[], using?: string[]): Promise<{ status: number; body: any }>;
  session(): Promise<any>;
}

async function jmap(t: { after: (fn: () => Promise<void>) => void }, pushPollMs?: number): Promise<Jmap> {
  const mailbox = new FakeMailbox();
  const accounts = fakeAccounts({ [ALICE]: PASSWORD });
  // The listener's TLS was terminated by a trusted proxy (tls.terminated-by-proxy): plain sockets, tls set.
  const h = await harness({ mail: { accounts, mailbox, ...(pushPollMs ? { pushPollMs } : {}) } }, { terminatedBy: 'proxy' });
  t.after(() => h.close());
  return {
    h,
    mailbox,
    async session() {
      const res = await fetch(`${h.url}/.well-known/jmap`, { headers: { authorization: AUTH } });
      assert.equal(res.status, 200);
      return res.json();
    },
    async api(methodCalls, using = USING) {
      const res = await fetch(`${h.url}/jmap/api`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ using, methodCalls }),
      });
      return { status: res.status, body: await res.json() };
    },
  };
}

test('session: URLs come from publicUrl only, whatever Host / X-Forwarded-* say', async (t) => {
  const j = await jmap(t);
  const variants: Record<string, string>[] = [
    {},
    { host: 'evil.test' },
    { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'http', 'x-forwarded-port': '81' },
    { forwarded: 'host=evil.test;proto=http', host: 'other.test:8443' },
  ];
  const sessions = [];
  for (const headers of variants) {
    const res = await request(`${j.h.url}/jmap/session`, { authorization: AUTH, ...headers });
    assert.equal(res.status, 200, JSON.stringify(headers));
    assert.doesNotMatch(res.text, /evil|other\.test|127\.0\.0\.1/);
    sessions.push(JSON.parse(res.text));
  }
  for (const s of sessions) assert.deepEqual(s, sessions[0]);
  const s = sessions[0] as Record<string, any>;
  assert.equal(s.apiUrl, 'https://mail.example.test/jmap/api');
  assert.equal(s.downloadUrl, 'https://mail.example.test/jmap/download/{accountId}/{blobId}/{name}?accept={type}');
  assert.equal(s.uploadUrl, 'https://mail.example.test/jmap/upload/{accountId}/');
  assert.equal(s.eventSourceUrl, 'https://mail.example.test/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}');
  assert.equal(s.username, ALICE);
  assert.ok(s.capabilities['urn:ietf:params:jmap:core'].maxCallsInRequest > 0);
  assert.deepEqual(s.capabilities['urn:ietf:params:jmap:mail'], {});
  const accountId = s.primaryAccounts['urn:ietf:params:jmap:mail'];
  assert.match(accountId, /^[A-Za-z0-9_-]+$/);
  assert.equal(s.accounts[accountId].name, ALICE);
  assert.equal(typeof s.state, 'string');
  assert.deepEqual(await j.session(), s, '/.well-known/jmap answers the same session');
});

test('auth: refused over plaintext (problem details), never checked; accepted over TLS and from a trusted TLS proxy', async (t) => {
  const accounts = fakeAccounts({ [ALICE]: PASSWORD });
  const h = await harness({ mail: { accounts, mailbox: new FakeMailbox() } }, null);
  t.after(() => h.close());
  const plain = await fetch(`${h.url}/.well-known/jmap`, { headers: { authorization: AUTH } });
  assert.equal(plain.status, 403);
  assert.match(plain.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = (await plain.json()) as Record<string, unknown>;
  assert.equal(problem.type, 'urn:portico:error:encryptionRequired');
  assert.equal(problem.status, 403);
  assert.match(String(problem.detail), /https/);
  assert.equal(accounts.calls, 0, 'the password is not even checked');
  const api = await fetch(`${h.url}/jmap/api`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(api.status, 403);

  // X-Forwarded-Proto: https from a trusted peer: the resolver set tls { terminatedBy: 'proxy' }.
  const proxied = await fetch(`${h.url}/.well-known/jmap`, { headers: { authorization: AUTH, 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' } });
  assert.equal(proxied.status, 200);

  // Our own TLS.
  const front = await tlsFront(h.app);
  t.after(() => front.close());
  const status = await new Promise<number>((resolve, reject) => {
    httpsRequest({ host: '127.0.0.1', port: front.port, path: '/jmap/session', rejectUnauthorized: false, headers: { authorization: AUTH } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
  assert.equal(status, 200);
});

test('auth: failures are 401 with WWW-Authenticate and reported as auth-failure', async (t) => {
  const j = await jmap(t);
  const none = await fetch(`${j.h.url}/jmap/session`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+", charset="UTF-8"$/);
  assert.equal(j.h.events.length, 0, 'asking without credentials is how clients start');
  const wrong = await fetch(`${j.h.url}/jmap/session`, { headers: { authorization: basic(ALICE, 'nope') } });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
  assert.equal(((await wrong.json()) as Record<string, unknown>).status, 401);
  const garbage = await fetch(`${j.h.url}/jmap/api`, { method: 'POST', headers: { authorization: 'Basic !!!', 'content-type': 'application/json' }, body: '{}' });
  assert.equal(garbage.status, 401);
  assert.deepEqual(j.h.events.map((e) => [e.kind, e.reason, e.account]), [
    ['auth-failure', 'jmap-basic-auth', ALICE],
    ['auth-failure', 'jmap-bad-authorization', undefined],
  ]);
  assert.equal(j.h.events[0]!.connection.tls?.terminatedBy, 'proxy');
});

test('a JMAP client session: mailboxes, query, get with bodyValues, set $seen, states and changes', async (t) => {
  const j = await jmap(t);
  const first = Date.parse('2026-11-17T09:00:00Z');
  j.mailbox.deliver(ALICE, ALTERNATIVE, first);
  j.mailbox.deliver(ALICE, PLAIN, first + 60_000);
  const session = await j.session();
  const accountId = session.primaryAccounts['urn:ietf:params:jmap:mail'];

  // RFC 8621 example style: mailboxes, then query + get with a back-reference.
  const r1 = await j.api([
    ['Mailbox/get', { accountId, ids: null }, 'm'],
    ['Email/query', { accountId, filter: { inMailbox: 'inbox' }, sort: [{ property: 'receivedAt', isAscending: false }], limit: 10, calculateTotal: true }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, fetchTextBodyValues: true,
      properties: ['id', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt', 'subject', 'from', 'to', 'sentAt', 'messageId', 'textBody', 'htmlBody', 'bodyValues', 'preview', 'hasAttachment', 'header:Subject:asRaw'] }, 'g'],
  ]);
  assert.equal(r1.status, 200);
  assert.equal(r1.body.sessionState, session.state);
  const [[mName, mailboxes], [qName, query], [gName, got]] = r1.body.methodResponses;
  assert.deepEqual([mName, qName, gName], ['Mailbox/get', 'Email/query', 'Email/get']);
  assert.equal(mailboxes.list.length, 1);
  assert.deepEqual({ ...mailboxes.list[0], myRights: undefined }, {
    id: 'inbox', name: 'Inbox', parentId: null, role: 'inbox', sortOrder: 0, totalEmails: 2, unreadEmails: 2, totalThreads: 2,
    unreadThreads: 2, myRights: undefined, isSubscribed: true,
  });
  assert.equal(query.total, 2);
  assert.equal(query.ids.length, 2);
  const [newest, oldest] = got.list;
  assert.deepEqual(got.list.map((e: any) => e.id), query.ids);
  assert.equal(newest.subject, 'plain');
  assert.deepEqual(newest.textBody.length, 1);
  assert.equal(newest.bodyValues[newest.textBody[0].partId].value, 'Just text.\n');

  assert.equal(oldest.subject, 'Café time');
  assert.equal(oldest['header:Subject:asRaw'], ' =?utf-8?B?Q2Fmw6kg?= =?utf-8?Q?time?=');
  assert.deepEqual(oldest.from, [{ name: 'Björn', email: 'bjorn@sender.test' }]);
  assert.deepEqual(oldest.to, [{ name: 'Alice', email: 'alice@example.test' }, { name: 'Doe, Jane', email: 'jane@example.test' }]);
  assert.equal(oldest.sentAt, '2026-11-17T09:00:00Z');
  assert.equal(oldest.receivedAt, '2026-11-17T09:00:00Z');
  assert.deepEqual(oldest.messageId, ['m1@sender.test']);
  assert.deepEqual(oldest.mailboxIds, { inbox: true });
  assert.deepEqual(oldest.keywords, {});
  assert.equal(oldest.size, Buffer.byteLength(ALTERNATIVE));
  assert.equal(oldest.hasAttachment, false);
  assert.equal(oldest.preview, 'Café at ten? See you.');
  assert.equal(oldest.textBody[0].type, 'text/plain');
  assert.equal(oldest.htmlBody[0].type, 'text/html');
  assert.deepEqual(Object.keys(oldest.bodyValues), [oldest.textBody[0].partId], 'only text bodies were asked for');
  assert.deepEqual(oldest.bodyValues[oldest.textBody[0].partId], { value: 'Café at ten? See you.', isEncodingProblem: false, isTruncated: false });

  // Oldest first, and paging.
  const asc = await j.api([['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }], position: 1, limit: 1 }, 'a']]);
  assert.deepEqual(asc.body.methodResponses[0][1].ids, [newest.id]);
  assert.equal(asc.body.methodResponses[0][1].position, 1);

  // Mark the oldest seen and flagged.
  const emailState = got.state;
  const mailboxState = mailboxes.state;
  const set = await j.api([
    ['Email/set', { accountId, ifInState: emailState, update: { [oldest.id]: { 'keywords/$seen': true, 'keywords/$Flagged': true } } }, 's'],
    ['Email/get', { accountId, ids: [oldest.id], properties: ['keywords'] }, 'k'],
    ['Mailbox/get', { accountId, ids: ['inbox'], properties: ['unreadEmails'] }, 'u'],
  ]);
  const [[, setResult], [, keywords], [, unread]] = set.body.methodResponses;
  assert.deepEqual(setResult.updated, { [oldest.id]: null });
  assert.equal(setResult.oldState, emailState);
  assert.notEqual(setResult.newState, emailState);
  assert.deepEqual(keywords.list[0].keywords, { $flagged: true, $seen: true });
  assert.equal(keywords.state, setResult.newState);
  assert.deepEqual(unread.list, [{ id: 'inbox', unreadEmails: 1 }]);
  assert.notEqual(unread.state, mailboxState);

  // Changes since the first states.
  const changes = await j.api([
    ['Email/changes', { accountId, sinceState: emailState }, 'c'],
    ['Mailbox/changes', { accountId, sinceState: mailboxState }, 'mc'],
  ]);
  const [[, emailChanges], [, mailboxChanges]] = changes.body.methodResponses;
  assert.deepEqual(emailChanges, { accountId, oldState: emailState, newState: setResult.newState, hasMoreChanges: false, created: [], updated: [oldest.id], destroyed: [] });
  assert.deepEqual(mailboxChanges.updated, ['inbox']);
  assert.deepEqual(mailboxChanges.updatedProperties, ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);

  // New mail arrives (and one goes away): the state changes, /changes says which.
  const third = j.mailbox.deliver(ALICE, 'Subject: third\r\n\r\nthree\r\n', first + 120_000);
  const afterDelivery = await j.api([['Email/changes', { accountId, sinceState: setResult.newState }, 'c']]);
  const delivered = afterDelivery.body.methodResponses[0][1];
  assert.equal(delivered.created.length, 1);
  assert.deepEqual([delivered.updated, delivered.destroyed], [[], []]);
  j.mailbox.remove(ALICE, third);
  const gone = (await j.api([['Email/changes', { accountId, sinceState: delivered.newState }, 'c']])).body.methodResponses[0][1];
  assert.deepEqual(gone.destroyed, delivered.created);
  assert.equal(gone.newState, setResult.newState, 'the state is derived from the listing: back to what it was');

  // maxChanges: an intermediate state, then the rest.
  j.mailbox.deliver(ALICE, 'Subject: 4\r\n\r\n4\r\n', first + 180_000);
  j.mailbox.deliver(ALICE, 'Subject: 5\r\n\r\n5\r\n', first + 240_000);
  const part1 = (await j.api([['Email/changes', { accountId, sinceState: gone.newState, maxChanges: 1 }, 'c']])).body.methodResponses[0][1];
  assert.equal(part1.hasMoreChanges, true);
  assert.equal(part1.created.length, 1);
  const part2 = (await j.api([['Email/changes', { accountId, sinceState: part1.newState, maxChanges: 1 }, 'c']])).body.methodResponses[0][1];
  assert.equal(part2.hasMoreChanges, false);
  assert.equal(part2.created.length, 1);
  assert.notEqual(part2.created[0], part1.created[0]);

  // A state this server never handed out.
  const unknown = await j.api([['Email/changes', { accountId, sinceState: 'e0000' }, 'c'], ['Mailbox/changes', { accountId, sinceState: 'nope' }, 'd']]);
  assert.deepEqual(unknown.body.methodResponses.map((r: any) => [r[0], r[1].type]), [['error', 'cannotCalculateChanges'], ['error', 'cannotCalculateChanges']]);
});

test('Email/set refuses keywords the store cannot keep, other mailboxes, a stale ifInState, and creation', async (t) => {
  const j = await jmap(t);
  j.mailbox.deliver(ALICE, PLAIN);
  const accountId = (await j.session()).primaryAccounts['urn:ietf:params:jmap:mail'];
  const ids = (await j.api([['Email/query', { accountId }, 'q']])).body.methodResponses[0][1].ids;
  const r = await j.api([
    ['Email/set', { accountId, update: { [ids[0]]: { 'keywords/$junk': true }, missing: { 'keywords/$seen': true } } }, 'a'],
    ['Email/set', { accountId, update: { [ids[0]]: { mailboxIds: { archive: true } } }, create: { k1: {} }, destroy: [ids[0]] }, 'b'],
    ['Email/set', { accountId, ifInState: 'old', update: {} }, 'c'],
  ]);
  const [[, a], [, b], [name, c]] = r.body.methodResponses;
  assert.equal(a.notUpdated[ids[0]].type, 'invalidProperties');
  assert.equal(a.notUpdated.missing.type, 'notFound');
  assert.equal(a.updated, null);
  assert.equal(a.oldState, a.newState);
  assert.equal(b.notUpdated[ids[0]].type, 'invalidProperties');
  assert.deepEqual(b.notUpdated[ids[0]].properties, ['mailboxIds']);
  assert.equal(b.notCreated.k1.type, 'forbidden');
  assert.equal(b.notDestroyed[ids[0]].type, 'forbidden');
  assert.deepEqual([name, c.type], ['error', 'stateMismatch']);
});

test('errors: request-level problem details and method-level errors', async (t) => {
  const j = await jmap(t);
  const accountId = (await j.session()).primaryAccounts['urn:ietf:params:jmap:mail'];
  const post = (body: string, type = 'application/json') =>
    fetch(`${j.h.url}/jmap/api`, { method: 'POST', headers: { authorization: AUTH, 'content-type': type }, body });
  for (const [body, type, expected] of [
    ['{not json', 'application/json', 'notJSON'],
    ['{}', 'text/plain', 'notJSON'],
    ['{"using":[]}', 'application/json', 'notRequest'],
    ['{"using":[],"methodCalls":[["Core/echo",{}]]}', 'application/json', 'notRequest'],
    ['{"using":["urn:example:nope"],"methodCalls":[]}', 'application/json', 'unknownCapability'],
  ] as const) {
    const res = await post(body, type);
    assert.equal(res.status, 400, body);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const p = (await res.json()) as Record<string, unknown>;
    assert.equal(p.type, `urn:ietf:params:jmap:error:${expected}`, body);
    assert.equal(p.status, 400);
  }
  const tooMany = await post(JSON.stringify({ using: USING, methodCalls: Array.from({ length: 100 }, (_, i) => ['Core/echo', {}, `c${i}`]) }));
  assert.equal(((await tooMany.json()) as Record<string, unknown>).limit, 'maxCallsInRequest');

  const r = await j.api([
    ['Core/echo', { hello: true, high: 5 }, 'e'],
    ['Mailbox/frobnicate', {}, 'u'],
    ['Email/get', { accountId: 'someone-else', ids: [] }, 'a'],
    ['Email/get', { accountId, ids: 'x' }, 'i'],
    ['Email/get', { accountId, ids: [], properties: ['nope'] }, 'p'],
    ['Email/query', { accountId, filter: { text: 'x' } }, 'f'],
    ['Email/query', { accountId, sort: [{ property: 'subject' }] }, 's'],
    ['Email/get', { accountId, '#ids': { resultOf: 'zz', name: 'Email/query', path: '/ids' } }, 'r'],
    ['Email/get', { accountId, ids: ['Mnope'] }, 'n'],
  ]);
  assert.deepEqual(r.body.methodResponses.map((x: any) => [x[0], x[0] === 'error' ? x[1].type : null, x[2]]), [
    ['Core/echo', null, 'e'],
    ['error', 'unknownMethod', 'u'],
    ['error', 'accountNotFound', 'a'],
    ['error', 'invalidArguments', 'i'],
    ['error', 'invalidArguments', 'p'],
    ['error', 'unsupportedFilter', 'f'],
    ['error', 'unsupportedSort', 's'],
    ['error', 'invalidResultReference', 'r'],
    ['Email/get', null, 'n'],
  ]);
  assert.deepEqual(r.body.methodResponses[0][1], { hello: true, high: 5 });
  assert.deepEqual(r.body.methodResponses[8][1].notFound, ['Mnope']);
  // Mail methods need the mail capability in "using".
  const coreOnly = await j.api([['Mailbox/get', { accountId }, 'x']], ['urn:ietf:params:jmap:core']);
  assert.equal(coreOnly.body.methodResponses[0][1].type, 'unknownMethod');
});

test('blob download: the raw message and one body part, with the accept type and file name', async (t) => {
  const j = await jmap(t);
  j.mailbox.deliver(ALICE, ALTERNATIVE);
  const session = await j.session();
  const accountId = session.primaryAccounts['urn:ietf:params:jmap:mail'];
  const got = (await j.api([['Email/get', { accountId, ids: null, properties: ['blobId', 'htmlBody'] }, 'g']])).body.methodResponses[0][1].list[0];
  const url = (blobId: string, name: string, type: string) =>
    `${j.h.url}${new URL(session.downloadUrl.replace('{accountId}', accountId).replace('{blobId}', blobId)
      .replace('{name}', encodeURIComponent(name)).replace('{type}', encodeURIComponent(type))).pathname}?accept=${encodeURIComponent(type)}`;
  const raw = await fetch(url(got.blobId, 'café.eml', 'message/rfc822'), { headers: { authorization: AUTH } });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'message/rfc822');
  assert.equal(raw.headers.get('content-disposition'), `attachment; filename="caf_.eml"; filename*=UTF-8''caf%C3%A9.eml`);
  assert.equal(raw.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await raw.text(), ALTERNATIVE);
  const html = await fetch(url(got.htmlBody[0].blobId, 'part.html', 'text/plain'), { headers: { authorization: AUTH } });
  assert.equal(html.status, 200);
  assert.equal(html.headers.get('content-type'), 'text/plain');
  assert.equal(await html.text(), '<p>Caf\u00e9 at ten? See you.</p>');
  const missing = await fetch(url(`${got.blobId}x`, 'x', 'text/plain'), { headers: { authorization: AUTH } });
  assert.equal(missing.status, 404);
  const otherAccount = await fetch(`${j.h.url}/jmap/download/someone/${got.blobId}/x`, { headers: { authorization: AUTH } });
  assert.equal(otherAccount.status, 404);
  const anonymous = await fetch(url(got.blobId, 'x', 'text/plain'));
  assert.equal(anonymous.status, 401);
});

test('event source: a StateChange when flags change (closeafter=state)', async (t) => {
  const j = await jmap(t, 30);
  j.mailbox.deliver(ALICE, PLAIN);
  const accountId = (await j.session()).primaryAccounts['urn:ietf:params:jmap:mail'];
  const res = await fetch(`${j.h.url}/jmap/eventsource?types=*&closeafter=state&ping=0`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const ids = (await j.api([['Email/query', { accountId }, 'q']])).body.methodResponses[0][1].ids;
  await j.api([['Email/set', { accountId, update: { [ids[0]]: { 'keywords/$seen': true } } }, 's']]);
  const text = await res.text(); // closeafter=state: the stream ends after the event
  const data = /event: state\ndata: (.*)\n/.exec(text);
  assert.ok(data, text);
  const change = JSON.parse(data[1]!);
  assert.equal(change['@type'], 'StateChange');
  assert.deepEqual(Object.keys(change.changed[accountId]).sort(), ['Email', 'Mailbox', 'Thread']);
});

test('without mail options there are no JMAP routes', async (t) => {
  const h = await harness({}, { terminatedBy: 'proxy' });
  t.after(() => h.close());
  assert.equal((await fetch(`${h.url}/.well-known/jmap`, { headers: { authorization: AUTH } })).status, 404);
});

test('close() ends open event streams at once', async () => {
  const accounts = fakeAccounts({ [ALICE]: PASSWORD });
  const h = await harness({ mail: { accounts, mailbox: new FakeMailbox(), pushPollMs: 50 }, closeGraceMs: 5000 }, { terminatedBy: 'proxy' });
  const res = await fetch(`${h.url}/jmap/eventsource?types=*&closeafter=no&ping=1`, { headers: { authorization: AUTH } });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^: portico/);
  const started = Date.now();
  await h.close();
  assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`);
  while (!(await reader.read().catch(() => ({ done: true }))).done);
});

test('with mail options, routes cannot hide the JMAP paths', async () => {
  const mail = { accounts: fakeAccounts({}), mailbox: new FakeMailbox() };
  for (const prefix of ['/jmap', '/.well-known/jmap', '/JMAP/api']) {
    await assert.rejects(harness({ mail, routes: [{ prefix, upstream: 'http://127.0.0.1:9' }] }), { code: 'PORTICO_ERR_HTTP_ROUTE_PREFIX' }, prefix);
  }
});
