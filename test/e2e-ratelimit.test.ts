// Rate limits keyed by account as well as by client IP (issue 7): failed logins per IP and per
// account, messages per authenticated sender, on the real `portico serve` with swaks from 127.0.0.x.
// Auto-ban is set out of reach here so that only the rate limits answer.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, TEST_PASSWORD, TEST_PASSWORD_HASH, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { freePorts } from './support/ports.ts';
import { swaks } from './support/mail-probes.ts';
import { request } from 'node:https';

/** GET over TLS from a chosen 127.0.0.x with HTTP Basic (the server's certificate is self-signed). */
function jmapGet(port: number, from: string, user: string, password: string): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/.well-known/jmap', localAddress: from, rejectUnauthorized: false, auth: `${user}:${password}` },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ALICE = 'alice@example.test';
const BOB = 'bob@example.test';

describe('rate limits per client IP and per account on submission', () => {
  let portico: RunningPortico;
  let port: number;
  let web: number;

  before(async () => {
    [port, web] = (await freePorts(2)) as [number, number];
    portico = await startPortico(`${serverSection('mail.example.test')}
${listenerSection('sub', 'submission', port)}
${listenerSection('web', 'http', web)}
tls.implicit = true
[server.rate-limit]
auth-failure = "2/1h"
message = "2/1h"
http-request = "4/1h"
[server.auto-ban]
auth.rate = "1000/1h"
[mail]
domains = ["example.test"]
[mail.accounts."${ALICE}"]
password = "${TEST_PASSWORD_HASH}"
[mail.accounts."${BOB}"]
password = "${TEST_PASSWORD_HASH}"
`, { logLevel: 'info' });
  });

  after(async () => {
    await portico?.stop();
  });

  const login = (from: string, user: string, password: string) =>
    swaks([
      '--server', `127.0.0.1:${port}`, '--local-interface', from, '-tls',
      '--auth', 'PLAIN', '--auth-user', user, '--auth-password', password,
      '--quit-after', 'AUTH',
    ]);

  const send = (from: string, user: string) =>
    swaks([
      '--server', `127.0.0.1:${port}`, '--local-interface', from, '-tls',
      '--auth', 'PLAIN', '--auth-user', user, '--auth-password', TEST_PASSWORD,
      '--from', user, '--to', ALICE, '--header', `Subject: from ${from}`,
    ]);

  test('two failed logins for alice lock her account from every address, bob is unaffected', async () => {
    for (let i = 0; i < 2; i++) {
      const failed = await login('127.0.0.21', ALICE, 'wrong-password');
      assert.match(failed.transcript, /<~\* 535 5\.7\.8 /);
    }
    // The right password no longer helps, from the same address ...
    const same = await login('127.0.0.21', ALICE, TEST_PASSWORD);
    assert.match(same.transcript, /<~\* 454 4\.7\.0 too many failed authentication attempts; try again in \d+s/);
    // ... nor from another one (the per-account count), and the password is not even checked.
    const other = await login('127.0.0.22', ALICE, TEST_PASSWORD);
    assert.match(other.transcript, /<~\* 454 4\.7\.0 too many failed authentication attempts/);
    assert.ok(portico.logs().some((l) => l.msg === 'smtp: AUTH refused by policy (too many failed logins)' && String(l.client).startsWith('127.0.0.22:')));
    // 127.0.0.21 is over its own per-IP count too; bob from a fresh address logs in.
    assert.match((await login('127.0.0.21', BOB, TEST_PASSWORD)).transcript, /<~\* 454 4\.7\.0 /);
    assert.match((await login('127.0.0.23', BOB, TEST_PASSWORD)).transcript, /<~ {2}235 2\.7\.0 Authentication successful/);
  });

  test('messages per authenticated sender: bob\'s third message is refused at MAIL whatever his address', async () => {
    assert.match((await send('127.0.0.31', BOB)).transcript, /<~ {2}250 2\.0\.0 OK: queued as /);
    assert.match((await send('127.0.0.32', BOB)).transcript, /<~ {2}250 2\.0\.0 OK: queued as /);
    const third = await send('127.0.0.33', BOB);
    assert.match(third.transcript, /~> MAIL FROM:<bob@example\.test>\r?\n<~\* 451 4\.7\.1 too many messages; try again in \d+s/);
    // The per-IP count of 127.0.0.33 had room: it was the account that was over.
    assert.notEqual(third.code, 0);
  });

  test('JMAP: alice\'s locked account is refused 429 before her password is checked; bob\'s requests count per account across addresses', async () => {
    // After the first test, alice is over her failed-login count on every listener that shares the limits.
    const locked = await jmapGet(web, '127.0.0.41', ALICE, TEST_PASSWORD);
    assert.equal(locked.status, 429);
    assert.match(locked.retryAfter ?? '', /^\d+$/);
    assert.match(JSON.parse(locked.body).message, /^too many failed authentication attempts; try again in \d+s$/);
    // bob: four requests from four addresses pass (each address has room), the fifth is over his account's count.
    for (const from of ['127.0.0.42', '127.0.0.43', '127.0.0.44', '127.0.0.45']) {
      const ok = await jmapGet(web, from, BOB, TEST_PASSWORD);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(JSON.parse(ok.body).username, BOB);
    }
    const over = await jmapGet(web, '127.0.0.46', BOB, TEST_PASSWORD);
    assert.equal(over.status, 429);
    assert.equal(JSON.parse(over.body).reason, 'rate-limit:http-request');
  });
});
