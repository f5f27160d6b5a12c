// POP3 end to end: the real `portico serve`, Python's poplib as the client, and HAProxy 2.6 with
// send-proxy-v2 in front of a PROXY-protocol listener. A message delivered over SMTP is listed,
// retrieved byte for byte (a line starting with "." survives the dot-stuffing round trip), deleted
// with DELE + QUIT and gone from the Maildir. Plaintext logins are refused on an unencrypted
// connection; STLS and implicit TLS (pop3s) work. Behind HAProxy the log and the security event name
// the client (127.0.0.5), never the proxy (127.0.0.1).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startPortico, TEST_PASSWORD, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { startHaproxy } from './support/haproxy.ts';
import { freePorts } from './support/ports.ts';
import { runCommand } from './support/processes.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { SmtpClient } from './support/mail-probes.ts';

const HOST = 'mail.example.test';
const ACCOUNT = 'p@example.test';
const HAPROXY_CLIENT = '127.0.0.5';

/**
 * One poplib session, printed as JSON. argv: mode (plain-then-stls | pop3s | wrong-password), port,
 * user, password, source address. Every reply poplib raises as error_proto is recorded, not fatal.
 */
const CLIENT = String.raw`
import json, poplib, socket, ssl, sys
mode, port, user, password, source = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl._create_unverified_context()
class BoundPOP3(poplib.POP3):
    # poplib has no source_address: bind the client end to 127.0.0.x ourselves.
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
out = {}
def err(f):
    try:
        return f().decode('latin1')
    except poplib.error_proto as e:
        return 'ERROR ' + e.args[0].decode('latin1')
if mode == 'pop3s':
    p = poplib.POP3_SSL('127.0.0.1', port, context=ctx, timeout=10)
else:
    p = BoundPOP3('127.0.0.1', port, timeout=10)
out['welcome'] = p.getwelcome().decode()
if mode != 'pop3s':
    out['capa_plain'] = sorted(p.capa().keys())
    out['user_plain'] = err(lambda: p.user(user))
    out['stls'] = p.stls(context=ctx).decode()
    out['tls'] = p.sock.version()
out['capa'] = sorted(p.capa().keys())
out['user'] = err(lambda: p.user(user))
out['pass'] = err(lambda: p.pass_(password))
if mode != 'wrong-password':
    out['stat'] = list(p.stat())
    out['list'] = [l.decode() for l in p.list()[1]]
    out['uidl'] = [l.decode() for l in p.uidl()[1]]
    out['retr'] = b''.join(l + b'\r\n' for l in p.retr(1)[1]).decode('latin1')
    if mode == 'plain-then-stls':
        out['dele'] = p.dele(1).decode()
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;

interface PopResult {
  welcome: string;
  capa_plain?: string[];
  user_plain?: string;
  stls?: string;
  tls?: string;
  capa: string[];
  user: string;
  pass: string;
  stat?: [number, number];
  list?: string[];
  uidl?: string[];
  retr?: string;
  dele?: string;
  quit: string;
}

/** Every file in the account's new/ and cur/. */
function maildirFiles(dir: string): { name: string; bytes: Buffer }[] {
  const base = join(dir, 'data', 'mail', ACCOUNT);
  return ['new', 'cur'].flatMap((sub) => {
    let names: string[] = [];
    try {
      names = readdirSync(join(base, sub));
    } catch {
      // no Maildir yet
    }
    return names.map((name) => ({ name, bytes: readFileSync(join(base, sub, name)) }));
  });
}

describe('portico serve: POP3 with Python poplib, STLS, pop3s and HAProxy send-proxy-v2', () => {
  let portico: RunningPortico;
  let ports: { mx: number; pop: number; pops: number; popx: number };

  before(async () => {
    const [mx, pop, pops, popx] = (await freePorts(4)) as [number, number, number, number];
    ports = { mx, pop, pops, popx };
    portico = await startPortico(`${serverSection(HOST)}

${listenerSection('mx', 'smtp', mx)}

${listenerSection('pop', 'pop3', pop)}

${listenerSection('pops', 'pop3', pops)}
tls.implicit = true

${listenerSection('popx', 'pop3', popx)}
proxy.mode = "proxy-protocol"
proxy.trusted-networks = ["127.0.0.1"]

${mailSections({ accounts: [ACCOUNT] })}`);
  });

  after(async () => {
    await portico?.stop();
  });

  function explainPortico(t: TestContext): void {
    explainOnFailure(t, 'portico log', () => portico.process.output());
  }

  async function pop(t: TestContext, mode: string, port: number, password = TEST_PASSWORD, source = '127.0.0.1'): Promise<PopResult> {
    const result = await runCommand('python3', ['-c', CLIENT, mode, String(port), ACCOUNT, password, source]);
    explainOnFailure(t, `python ${mode}`, () => `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as PopResult;
  }

  async function deliver(body: string): Promise<void> {
    const smtp = await SmtpClient.connect({ port: ports.mx });
    assert.equal((await smtp.reply())?.code, 220);
    assert.equal((await smtp.command('EHLO client.example.org'))?.code, 250);
    assert.equal((await smtp.command('MAIL FROM:<sender@example.org>'))?.code, 250);
    assert.equal((await smtp.command(`RCPT TO:<${ACCOUNT}>`))?.code, 250);
    assert.equal((await smtp.command('DATA'))?.code, 354);
    // SMTP dot-stuffing on the way in: "..dot" arrives as ".dot".
    const stuffed = body.replace(/^\./gm, '..');
    assert.equal((await smtp.command(`${stuffed}.`))?.code, 250);
    await smtp.command('QUIT');
    smtp.destroy();
  }

  test('SMTP in, POP3 out: plaintext USER refused with [AUTH]; STLS, login, LIST/UIDL, RETR byte for byte, DELE+QUIT removes the file', explained(async (t) => {
    explainPortico(t);
    await deliver('Subject: pop3 e2e\r\n\r\nfirst line\r\n.a line starting with a dot\r\n..two dots\r\nlast\r\n');
    const [stored] = maildirFiles(portico.dir);
    assert.ok(stored, 'the message is in the Maildir');
    assert.match(stored.bytes.toString('latin1'), /\r\n\.a line starting with a dot\r\n\.\.two dots\r\n/);
    const key = stored.name.replace(/:2,.*$/, '');

    const r = await pop(t, 'plain-then-stls', ports.pop);
    assert.equal(r.welcome, `+OK ${HOST} POP3 Portico ready`);
    assert.ok(r.capa_plain?.includes('STLS'));
    assert.ok(!r.capa_plain?.includes('USER') && !r.capa_plain?.includes('SASL'), 'no login offered in plaintext');
    assert.equal(r.user_plain, 'ERROR -ERR [AUTH] Plaintext authentication is disallowed on unencrypted connections; use STLS');
    assert.equal(r.stls, '+OK Begin TLS negotiation');
    assert.match(r.tls ?? '', /^TLSv1\.[23]$/);
    assert.ok(r.capa.includes('USER') && r.capa.includes('SASL') && !r.capa.includes('STLS'));
    assert.equal(r.user, '+OK Send PASS');
    assert.equal(r.pass, `+OK Logged in, maildrop has 1 message (${stored.bytes.length} octets)`);
    assert.deepEqual(r.stat, [1, stored.bytes.length]);
    assert.deepEqual(r.list, [`1 ${stored.bytes.length}`]);
    assert.deepEqual(r.uidl, [`1 ${key}`], 'UIDL is the Maildir key');
    assert.equal(r.retr, stored.bytes.toString('latin1'), 'RETR round-trips the stored bytes exactly');
    assert.equal(r.dele, '+OK Message 1 deleted');
    assert.equal(r.quit, `+OK ${HOST} POP3 Portico signing off (1 message deleted)`);
    assert.deepEqual(maildirFiles(portico.dir), [], 'QUIT removed the file');
    const authenticated = await portico.waitForLog((l) => l.msg === 'pop3: authenticated' && l.listener === 'pop');
    assert.equal(authenticated.account, ACCOUNT);
    assert.ok(!portico.process.output().includes(TEST_PASSWORD), 'the password is never logged');
  }));

  test('pop3s (tls.implicit): POP3_SSL logs in and reads; nothing is deleted without DELE', explained(async (t) => {
    explainPortico(t);
    await deliver('Subject: over pop3s\r\n\r\nhello\r\n');
    const [stored] = maildirFiles(portico.dir);
    assert.ok(stored);
    const r = await pop(t, 'pop3s', ports.pops);
    assert.equal(r.welcome, `+OK ${HOST} POP3 Portico ready`);
    assert.ok(r.capa.includes('USER') && !r.capa.includes('STLS'));
    assert.equal(r.pass, `+OK Logged in, maildrop has 1 message (${stored.bytes.length} octets)`);
    assert.equal(r.retr, stored.bytes.toString('latin1'));
    assert.equal(r.quit, `+OK ${HOST} POP3 Portico signing off (0 messages deleted)`);
    assert.equal(maildirFiles(portico.dir).length, 1);
  }));

  test('behind HAProxy send-proxy-v2 from 127.0.0.5: the session log and the failed-login security event name 127.0.0.5, never 127.0.0.1', explained(async (t) => {
    explainPortico(t);
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: ports.popx }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const r = await pop(t, 'wrong-password', proxy.port, 'not-the-password', HAPROXY_CLIENT);
    assert.equal(r.welcome, `+OK ${HOST} POP3 Portico ready`);
    assert.equal(r.stls, '+OK Begin TLS negotiation', 'STLS passes through HAProxy (mode tcp)');
    assert.equal(r.pass, 'ERROR -ERR [AUTH] Authentication failed');
    const open = await portico.waitForLog((l) => l.msg === 'connection open' && l.listener === 'popx');
    assert.match(String(open.client), /^127\.0\.0\.5:\d+$/);
    assert.match(String(open.peer), /^127\.0\.0\.1:\d+$/);
    assert.equal(open.via, 'proxy-v2');
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.conn === open.conn);
    assert.deepEqual([event.event, event.reason, event.listener, event.client, event.peer], ['auth-failure', 'pop3-auth', 'popx', HAPROXY_CLIENT, '127.0.0.1']);
    const failure = await portico.waitForLog((l) => l.msg === 'pop3: authentication failed' && l.conn === open.conn);
    assert.match(String(failure.client), /^127\.0\.0\.5:\d+$/);
    assert.ok(!portico.process.output().includes('not-the-password'), 'the password is never logged');
  }));
});
