// IMAP end to end: the real `portico serve`, Python's imaplib as the client, swaks to deliver over
// SMTP, and HAProxy send-proxy-v2 in front of a listener. Shows that mail delivered over SMTP is read,
// flagged and expunged over IMAP with stable UIDs, that passwords never travel in clear text
// (LOGINDISABLED, NO [PRIVACYREQUIRED]) while STARTTLS and implicit TLS work, and that behind a proxy
// the logs and security events name the real client (127.0.0.5), never the proxy (127.0.0.1).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, TEST_PASSWORD, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { startHaproxy } from './support/haproxy.ts';
import { freePorts } from './support/ports.ts';
import { runCommand } from './support/processes.ts';
import { explained, explainOnFailure, stopAfter } from './support/cleanup.ts';
import { swaks } from './support/mail-probes.ts';
import { queuedId, storedMessage } from './support/mail-store.ts';

const HOST = 'mail.example.test';
const ACCOUNT = 'a@example.test';
const CLIENT = '127.0.0.5';

// One imaplib session per run: argv = step, port, user, password, source address. Prints one JSON object.
const SCRIPT = String.raw`
import imaplib, ssl, json, sys, socket, base64
step, port, user, password, source = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl._create_unverified_context()
def bound(base):
    class Bound(base):
        def _create_socket(self, timeout):
            sock = socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host) if base is imaplib.IMAP4_SSL else sock
    return Bound
out = {}
if step == 'implicit':
    m = bound(imaplib.IMAP4_SSL)('127.0.0.1', port, ssl_context=ctx, timeout=10)
else:
    m = bound(imaplib.IMAP4)('127.0.0.1', port, timeout=10)
    out['caps'] = sorted(m.capabilities)
    try:
        m.login(user, password)
        out['plainLogin'] = 'OK'
    except imaplib.IMAP4.error as e:
        out['plainLogin'] = str(e)
    m.starttls(ssl_context=ctx)
out['tlsCaps'] = sorted(m.capabilities)
try:
    out['login'] = m.login(user, password)[0]
except imaplib.IMAP4.error as e:
    out['login'] = str(e)
if step == 'read':
    out['select'] = m.select('INBOX')[0]
    unseen = m.search(None, 'UNSEEN')[1][0].split()
    out['unseen'] = [n.decode() for n in unseen]
    typ, data = m.fetch(unseen[-1], '(UID BODY.PEEK[])')
    out['fetchMeta'] = data[0][0].decode()
    out['body'] = base64.b64encode(data[0][1]).decode()
    out['store'] = m.store(unseen[-1], '+FLAGS', '\\Seen')[1][0].decode()
    out['unseenAfter'] = m.search(None, 'UNSEEN')[1][0].decode()
    out['uids'] = m.uid('SEARCH', 'ALL')[1][0].decode()
    m.logout()
elif step == 'mime':
    # FETCH ENVELOPE BODYSTRUCTURE of the newest message, parsed here into nested lists (NIL -> None).
    def parse(text):
        pos = 0
        def item():
            nonlocal pos
            if text[pos] == '(':
                pos += 1
                items = []
                while text[pos] != ')':
                    if text[pos] == ' ':
                        pos += 1
                    else:
                        items.append(item())
                pos += 1
                return items
            if text[pos] == '"':
                pos += 1
                value = ''
                while text[pos] != '"':
                    if text[pos] == '\\':
                        pos += 1
                    value += text[pos]
                    pos += 1
                pos += 1
                return value
            start = pos
            while pos < len(text) and text[pos] not in ' ()':
                pos += 1
            return None if text[start:pos] == 'NIL' else text[start:pos]
        result = item()
        assert pos == len(text), text[pos:]
        return result
    m.select('INBOX')
    last = m.search(None, 'ALL')[1][0].split()[-1]
    typ, data = m.fetch(last, '(ENVELOPE BODYSTRUCTURE)')
    line = data[0].decode()
    fetched = parse(line[line.index(' ') + 1:])
    out['fetch'] = dict(zip(fetched[0::2], fetched[1::2]))
    typ, data = m.fetch(last, '(BODY.PEEK[2])')
    out['part2Meta'] = data[0][0].decode()
    out['part2'] = base64.b64encode(data[0][1]).decode()
    out['unseen'] = m.search(None, 'UNSEEN')[1][0].decode()
    m.logout()
elif step == 'implicit':
    out['select'] = m.select('INBOX')[0]
    out['uids'] = m.uid('SEARCH', 'ALL')[1][0].decode()
    out['seen'] = m.search(None, 'SEEN')[1][0].decode()
    out['status'] = m.status('INBOX', '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)')[1][0].decode()
    last = out['uids'].split()[-1]
    out['delete'] = m.uid('STORE', last, '+FLAGS', '(\\Deleted)')[1][0].decode()
    out['expunge'] = [x.decode() for x in m.expunge()[1] if x]
    out['after'] = m.uid('SEARCH', 'ALL')[1][0].decode()
    m.logout()
print(json.dumps(out))
`;

async function imaplib(step: string, port: number, password = TEST_PASSWORD, source = '127.0.0.1'): Promise<Record<string, unknown>> {
  const result = await runCommand('python3', ['-c', SCRIPT, step, String(port), ACCOUNT, password, source], { timeoutMs: 15_000 });
  assert.equal(result.code, 0, `imaplib ${step} failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('portico serve: IMAP with Python imaplib, STARTTLS, implicit TLS and HAProxy', () => {
  let portico: RunningPortico;
  let ports: { smtp: number; imap: number; imaps: number; proxied: number };

  before(async () => {
    const [smtp, imap, imaps, proxied] = (await freePorts(4)) as [number, number, number, number];
    ports = { smtp, imap, imaps, proxied };
    portico = await startPortico(`${serverSection(HOST)}

[server.proxy]
trusted-networks = ["127.0.0.1"]

${listenerSection('mx', 'smtp', smtp)}
proxy.trusted-networks = []

${listenerSection('imap', 'imap', imap)}
proxy.trusted-networks = []

${listenerSection('imaps', 'imap', imaps)}
tls.implicit = true
proxy.trusted-networks = []

${listenerSection('imap-proxied', 'imap', proxied)}
proxy.mode = "proxy-protocol"

[mail-auth]
spf.verify = "disable"
dkim.verify = "disable"
dmarc.verify = "disable"

${mailSections({ accounts: [ACCOUNT] })}`);
  });

  after(async () => {
    await portico?.stop();
  });

  test('SMTP delivery, then SEARCH UNSEEN, BODY.PEEK[] byte for byte, STORE \\Seen; reconnect over implicit TLS: same UIDs, \\Deleted + EXPUNGE removes the file', explained(async (t) => {
    explainOnFailure(t, 'portico log', () => portico.process.output());
    const sent = await swaks(['--server', `127.0.0.1:${ports.smtp}`, '--from', 'someone@example.org', '--to', ACCOUNT, '--header', 'Subject: read me over IMAP', '--body', 'Bytes \u00e9 and more.']);
    explainOnFailure(t, 'swaks', () => sent.transcript);
    assert.equal(sent.code, 0, sent.transcript);
    const stored = await storedMessage(portico.dir, ACCOUNT, queuedId(sent.transcript));

    // Plaintext: LOGIN refused before the password is looked at; STARTTLS, then LOGIN works.
    const read = await imaplib('read', ports.imap);
    assert.ok((read.caps as string[]).includes('LOGINDISABLED'), JSON.stringify(read.caps));
    assert.ok((read.caps as string[]).includes('STARTTLS'));
    assert.ok(!(read.caps as string[]).includes('AUTH=PLAIN'));
    assert.match(String(read.plainLogin), /PRIVACYREQUIRED/);
    assert.ok((read.tlsCaps as string[]).includes('AUTH=PLAIN') && !(read.tlsCaps as string[]).includes('LOGINDISABLED'));
    assert.equal(read.login, 'OK');
    assert.deepEqual(read.unseen, ['1']);
    assert.match(String(read.fetchMeta), new RegExp(`^1 \\(UID 1 BODY\\[\\] \\{${Buffer.byteLength(stored, 'latin1')}\\}$`));
    assert.equal(Buffer.from(String(read.body), 'base64').toString('latin1'), stored, 'BODY.PEEK[] is the stored file, byte for byte');
    assert.equal(read.store, '1 (FLAGS (\\Seen))');
    assert.equal(read.unseenAfter, '');
    assert.equal(read.uids, '1');
    const cur = join(portico.dir, 'data', 'mail', ACCOUNT, 'cur');
    assert.match(readdirSync(cur).join(), /:2,S$/, 'the Maildir file carries the S flag');

    // A second message, then a new connection over implicit TLS: UID 1 is still UID 1.
    const second = await swaks(['--server', `127.0.0.1:${ports.smtp}`, '--from', 'someone@example.org', '--to', ACCOUNT, '--header', 'Subject: second']);
    assert.equal(second.code, 0, second.transcript);
    const implicit = await imaplib('implicit', ports.imaps);
    assert.equal(implicit.login, 'OK');
    assert.ok((implicit.tlsCaps as string[]).includes('AUTH=PLAIN') && !(implicit.tlsCaps as string[]).includes('STARTTLS'));
    assert.equal(implicit.uids, '1 2');
    assert.equal(implicit.seen, '1');
    assert.match(String(implicit.status), /^INBOX \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1\)$/);
    assert.equal(implicit.delete, '2 (UID 2 FLAGS (\\Deleted))');
    assert.deepEqual(implicit.expunge, ['2']);
    assert.equal(implicit.after, '1');
    const files = [...readdirSync(cur), ...readdirSync(join(portico.dir, 'data', 'mail', ACCOUNT, 'new'))];
    assert.equal(files.length, 1, `only the first message is left: ${files.join()}`);
    assert.match(files[0]!, /:2,S$/);
  }));

  test('a multipart message delivered over SMTP: FETCH ENVELOPE BODYSTRUCTURE parses, BODY.PEEK[2] is the attachment part byte for byte', explained(async (t) => {
    explainOnFailure(t, 'portico log', () => portico.process.output());
    const attachment = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\r\nISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=';
    const message = [
      'Date: Mon, 7 Feb 1994 21:52:25 -0800',
      'From: "Sender, S" <someone@example.org>',
      `To: ${ACCOUNT}`,
      'Subject: multipart over IMAP',
      'Message-ID: <mime-1@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="XYZ"',
      '',
      'preamble',
      '--XYZ',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See the attachment.',
      '--XYZ',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Disposition: attachment; filename="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      '--XYZ--',
      '',
    ].join('\r\n');
    const file = join(portico.dir, 'multipart.eml');
    writeFileSync(file, message);
    const sent = await swaks(['--server', `127.0.0.1:${ports.smtp}`, '--from', 'someone@example.org', '--to', ACCOUNT, '--data', `@${file}`]);
    explainOnFailure(t, 'swaks', () => sent.transcript);
    assert.equal(sent.code, 0, sent.transcript);
    await storedMessage(portico.dir, ACCOUNT, queuedId(sent.transcript));

    const result = await imaplib('mime', ports.imap);
    assert.equal(result.login, 'OK');
    const fetched = result.fetch as { ENVELOPE: unknown[]; BODYSTRUCTURE: unknown[] };
    const from = [['Sender, S', null, 'someone', 'example.org']];
    assert.deepEqual(fetched.ENVELOPE, ['Mon, 7 Feb 1994 21:52:25 -0800', 'multipart over IMAP', from, from, from, [[null, null, 'a', 'example.test']], null, null, null, '<mime-1@example.org>']);
    const [text, file2, subtype, params] = fetched.BODYSTRUCTURE as [unknown[], unknown[], string, unknown[]];
    assert.deepEqual(text.slice(0, 8), ['text', 'plain', ['charset', 'utf-8'], null, null, '7BIT', '19', '1']);
    assert.deepEqual(file2.slice(0, 7), ['application', 'octet-stream', ['name', 'data.bin'], null, null, 'base64', String(attachment.length)]);
    assert.deepEqual(file2[8], ['attachment', ['filename', 'data.bin']]);
    assert.equal(subtype, 'mixed');
    assert.deepEqual(params, ['boundary', 'XYZ']);
    assert.equal(result.part2Meta, `${String(result.unseen).split(' ').at(-1)} (BODY[2] {${attachment.length}}`);
    assert.equal(Buffer.from(String(result.part2), 'base64').toString('latin1'), attachment, 'BODY.PEEK[2] is the part, byte for byte');
    assert.notEqual(result.unseen, '', 'PEEK leaves the message unseen');
  }));

  test('behind HAProxy send-proxy-v2 from 127.0.0.5: connection log and the failed-login security event name 127.0.0.5, never 127.0.0.1', explained(async (t) => {
    explainOnFailure(t, 'portico log', () => portico.process.output());
    const proxy = stopAfter(t, await startHaproxy({ backend: { host: '127.0.0.1', port: ports.proxied }, serverOptions: 'send-proxy-v2' }));
    explainOnFailure(t, 'haproxy', () => proxy.output());
    const result = await imaplib('wrong-password', proxy.port, 'not the password', CLIENT);
    assert.match(String(result.plainLogin), /PRIVACYREQUIRED/);
    assert.match(String(result.login), /AUTHENTICATIONFAILED/);
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.listener === 'imap-proxied');
    assert.equal(event.event, 'auth-failure');
    assert.equal(event.reason, 'imap-auth');
    assert.equal(event.client, CLIENT);
    assert.equal(event.peer, '127.0.0.1');
    const open = await portico.waitForLog((l) => l.msg === 'connection open' && l.conn === event.conn);
    assert.equal(open.listener, 'imap-proxied');
    assert.match(String(open.client), /^127\.0\.0\.5:\d+$/);
    assert.equal(open.via, 'proxy-v2');
    const failed = await portico.waitForLog((l) => l.msg === 'imap: authentication failed' && l.conn === event.conn);
    assert.match(String(failed.client), /^127\.0\.0\.5:\d+$/);
    assert.doesNotMatch(JSON.stringify(portico.logs().filter((l) => l.conn === event.conn)), /not the password/, 'the password is never logged');
  }));
});
