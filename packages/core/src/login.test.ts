import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { checkLogin } from './login.ts';
import type { LoginPolicy } from './login.ts';
import type { AcceptedConnection } from './handoff.ts';
import type { SecurityEvent } from './security-event.ts';
import type { Verdict } from './verdict.ts';
import { ALLOW, refuse } from './verdict.ts';
import { freezeConnectionInfo } from './connection.ts';

function setup(verdict: Verdict = ALLOW) {
  const events: SecurityEvent[] = [];
  const logs: Record<string, unknown>[] = [];
  const asked: string[] = [];
  const verified: string[] = [];
  const info = freezeConnectionInfo({
    id: 'c1', listener: 'test', client: { address: '192.0.2.7', port: 4000 }, server: { address: '127.0.0.1', port: 587 },
    peer: { address: '127.0.0.1', port: 5000 }, via: 'proxy-v2', tls: { terminatedBy: 'proxy' }, peerIsTrustedProxy: true, openedAt: 0,
  });
  const conn = { info, log: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }) } as unknown as AcceptedConnection;
  const policy: LoginPolicy = {
    accounts: { verify: async (account, password) => (verified.push(account), account === 'alice@example.test' && password === 'right') },
    admitLogin: async (_info, account) => (asked.push(account), verdict),
    events: { report: (event) => events.push(event) },
  };
  return { conn, policy, events, logs, asked, verified };
}

test('the account is trimmed and lower-cased before the policy and the password check see it', async () => {
  const s = setup();
  assert.deepEqual(await checkLogin(s.conn, s.policy, 'smtp', ' Alice@Example.TEST ', 'right', 1000), { kind: 'ok', account: 'alice@example.test' });
  assert.deepEqual(s.asked, ['alice@example.test']);
  assert.deepEqual(s.verified, ['alice@example.test']);
  assert.deepEqual(s.events, []);
});

test('a wrong password is one auth-failure event against the client and one log line, without the password', async () => {
  const s = setup();
  assert.deepEqual(await checkLogin(s.conn, s.policy, 'pop3', 'alice@example.test', 'not-the-password', 1000), { kind: 'failed' });
  assert.equal(s.events.length, 1);
  assert.deepEqual({ ...s.events[0], connection: s.events[0]!.connection.client.address }, {
    kind: 'auth-failure', reason: 'pop3-auth', connection: '192.0.2.7', account: 'alice@example.test', detail: 'bad credentials',
  });
  assert.deepEqual(s.logs.map((l) => [l.msg, l.account, l.detail]), [['pop3: authentication failed', 'alice@example.test', 'bad credentials']]);
  assert.doesNotMatch(JSON.stringify(s.logs), /not-the-password/);
});

test('a refusing policy is answered before the password is checked', async () => {
  const verdict = refuse('auth-rate', 'Too many failed logins', true, 60);
  const s = setup(verdict);
  assert.deepEqual(await checkLogin(s.conn, s.policy, 'imap', 'alice@example.test', 'right', 1000), { kind: 'refused', account: 'alice@example.test', verdict });
  assert.deepEqual(s.verified, []);
  assert.deepEqual(s.events, [], 'a refusal is not another failure');
});

test('an empty or overlong user name fails without asking the policy; the account in the event is cut to 320', async () => {
  const s = setup();
  assert.deepEqual(await checkLogin(s.conn, s.policy, 'smtp', '', 'x', 1000), { kind: 'failed' });
  assert.deepEqual(await checkLogin(s.conn, s.policy, 'smtp', 'a'.repeat(400), 'x', 1000), { kind: 'failed' });
  assert.deepEqual(s.asked, []);
  assert.deepEqual(s.events.map((e) => [e.detail, e.account!.length]), [['empty or overlong user name', 0], ['empty or overlong user name', 320]]);
});

test('a delay the policy asks for is waited out, but never longer than maxDelayMs', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const s = setup({ kind: 'delay', ms: 60_000, reason: 'tarpit' });
  let done = false;
  const outcome = checkLogin(s.conn, s.policy, 'smtp', 'alice@example.test', 'right', 5000).then((o) => ((done = true), o));
  await new Promise((resolve) => setImmediate(resolve));
  mock.timers.tick(4999);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  mock.timers.tick(1);
  assert.deepEqual(await outcome, { kind: 'ok', account: 'alice@example.test' });
});
