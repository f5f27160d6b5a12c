// Protocol conformance beyond our own tests: tools that no one here wrote, pointed at the real
// `portico serve` (an MX listener with STARTTLS, a submission listener with STARTTLS, a submission
// listener with implicit TLS) on loopback. No standalone RFC 5321 conformance suite installs here
// (the one that exists, Defensics, is commercial; aiosmtpd's, Postfix's and curl's suites test their
// own code against their own peers), so the third-party code is:
//   - nmap 7.93's NSE scripts (Debian package `nmap`): smtp-commands, smtp-open-relay (16 relay
//     tricks), smtp-enum-users (VRFY/EXPN), and the TLS scripts over STARTTLS and implicit TLS;
//   - nodemailer (npm, root devDependency): EHLO, STARTTLS, AUTH PLAIN/LOGIN, PIPELINING of
//     MAIL/RCPT/DATA, SMTPUTF8, dot-stuffing, partial recipient refusal;
//   - curl's SMTP client: HELP, VRFY, NOOP, EXPN, STARTTLS, AUTH LOGIN/PLAIN, the AUTH= and SIZE=
//     MAIL parameters, dot-stuffing, --mail-rcpt-allowfails, implicit TLS;
//   - Python's smtplib: help/verify/noop/rset, HELO and EHLO again, BODY=8BITMIME, SIZE=, SMTPUTF8,
//     its exception mapping of every refusal, login over STARTTLS and implicit TLS;
//   - swaks: --pipeline with a refused recipient and with none accepted, --protocol SMTP (HELO).
// Each test asserts what the tool reported. Outcomes that are not plain passes are asserted as they
// are, with the reason next to them (packages/smtp/README.md, "Conformance", lists them).
import { test, describe, before, after } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import nodemailer from 'nodemailer';
import { startPortico, TEST_PASSWORD, mailSections, listenerSection, serverSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { freePorts } from './support/ports.ts';
import { runCommand } from './support/processes.ts';
import { makeTempDir } from './support/temp.ts';
import { explained, explainOnFailure } from './support/cleanup.ts';
import { swaks } from './support/mail-probes.ts';
import { queuedId, storedFiles, storedMessage } from './support/mail-store.ts';
import { startTestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';
import type { TestDnsServer } from '../packages/mailauth/src/test-dns-server.ts';

const HOST = 'mail.example.test';
const ACCOUNT = 'a@example.test';
const UNKNOWN = 'nobody@example.test';
const HELO = 'client.example.org';
const SENDER = 'someone@example.org';
const FOREIGN = 'relay.example.net';
/** HELP lists what the session can still use: STARTTLS until encrypted, AUTH on submission only. */
const helpText = (extra: string) => `2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP${extra}; see RFC 5321`;
const HELP_TEXT = helpText(' STARTTLS');
const VRFY_TEXT = '2.5.0 Cannot VRFY user, but will accept message and attempt delivery';

let portico: RunningPortico;
let dns: TestDnsServer;
let ports: { mx: number; sub: number; subs: number };

before(async () => {
  const [mx, sub, subs] = (await freePorts(3)) as [number, number, number];
  ports = { mx, sub, subs };
  // SPF passes for loopback senders at example.org; relay.example.net does not exist (SPF none).
  dns = await startTestDnsServer({ 'example.org': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] } });
  // No [server.tls]: Portico makes its own self-signed certificate for STARTTLS and implicit TLS.
  portico = await startPortico(`${serverSection(HOST)}

${listenerSection('mx', 'smtp', mx)}

${listenerSection('sub', 'submission', sub)}

${listenerSection('subs', 'submission', subs)}
tls.implicit = true

${mailSections({ accounts: [ACCOUNT], nameserver: dns.address })}`);
});

after(async () => {
  await portico?.stop();
  await dns?.close();
});

function explainPortico(t: TestContext): void {
  explainOnFailure(t, 'portico log', () => portico.process.output());
}

/** The body of a stored message (after the first empty line). */
function body(message: string): string {
  return message.slice(message.indexOf('\r\n\r\n') + 4);
}

// ---------------------------------------------------------------------------------------------
// nmap NSE
// ---------------------------------------------------------------------------------------------

const NMAP_SCRIPTS = [
  'smtp-commands',
  'smtp-open-relay',
  'smtp-enum-users',
  'ssl-enum-ciphers',
  'ssl-heartbleed',
  'ssl-poodle',
  'ssl-ccs-injection',
  'ssl-dh-params',
];

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|quot|apos|lt|gt|amp);/gi, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' } as Record<string, string>)[e.toLowerCase()]!;
  });
}

/** port -> script id -> the script's output, from nmap's XML report. */
function nmapScriptOutputs(xml: string): Map<number, Map<string, string>> {
  const result = new Map<number, Map<string, string>>();
  for (const port of xml.matchAll(/<port protocol="tcp" portid="(\d+)">([\s\S]*?)<\/port>/g)) {
    const scripts = new Map<string, string>();
    for (const script of port[2]!.matchAll(/<script id="([^"]+)" output="([^"]*)"/g)) scripts.set(script[1]!, unescapeXml(script[2]!));
    result.set(Number(port[1]), scripts);
  }
  return result;
}

describe('nmap 7.93 NSE scripts (Debian nmap) against the three listeners', () => {
  let outputs: Map<number, Map<string, string>>;
  let report = '';

  before(async () => {
    // The SMTP scripts run on ports named smtp/smtps in nmap-services (25, 465, 587); version
    // detection (-sV) would name ours too but costs 25 s, so a data dir names the test's ports.
    // The submission port is named "smtp" so that the TLS scripts do STARTTLS on it.
    const dataDir = makeTempDir('nmap-');
    writeFileSync(join(dataDir.path, 'nmap-services'), `smtp\t${ports.mx}/tcp\t0.5\nsmtp\t${ports.sub}/tcp\t0.5\nsmtps\t${ports.subs}/tcp\t0.5\n`);
    const result = await runCommand('nmap', [
      '-Pn', '-n', '-sT', '--datadir', dataDir.path, '-p', `${ports.mx},${ports.sub},${ports.subs}`,
      '--script', NMAP_SCRIPTS.join(','),
      '--script-args', [
        'vulns.showall',
        `smtp.domain=${HELO}`,
        `smtp-open-relay.domain=${FOREIGN}`,
        'smtp-enum-users.domain=example.test',
        'smtp-enum-users.methods={VRFY,EXPN}',
      ].join(','),
      '-oX', '-', '127.0.0.1',
    ], { timeoutMs: 60_000 });
    dataDir.remove();
    report = `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, report);
    outputs = nmapScriptOutputs(result.stdout);
    // What the scripts said, port by port, for a failing test (the XML itself is long).
    report = [...outputs].map(([port, scripts]) => [...scripts].map(([id, out]) => `${port} ${id}:${out}`).join('\n')).join('\n');
  });

  function script(t: TestContext, port: number, id: string): string {
    explainOnFailure(t, 'nmap script outputs', () => report);
    const output = outputs.get(port)?.get(id);
    assert.ok(output !== undefined, `nmap ran no ${id} on port ${port}`);
    return output;
  }

  test('smtp-commands: the EHLO keywords and the HELP text of each listener (STARTTLS offered on plain ports, AUTH only over TLS)', explained(async (t) => {
    explainPortico(t);
    const greets = `${HOST} greets ${HELO} [127.0.0.1]`;
    assert.equal(script(t, ports.mx, 'smtp-commands'), `${greets}, PIPELINING, SIZE 26214400, 8BITMIME, CHUNKING, ENHANCEDSTATUSCODES, STARTTLS, SMTPUTF8\n ${HELP_TEXT}`);
    assert.equal(script(t, ports.sub, 'smtp-commands'), `${greets}, PIPELINING, SIZE 26214400, 8BITMIME, CHUNKING, ENHANCEDSTATUSCODES, STARTTLS, SMTPUTF8\n ${HELP_TEXT}`);
    assert.equal(script(t, ports.subs, 'smtp-commands'), `${greets}, PIPELINING, SIZE 26214400, 8BITMIME, CHUNKING, ENHANCEDSTATUSCODES, AUTH PLAIN LOGIN, SMTPUTF8\n ${helpText(' AUTH')}`);
  }));

  test('smtp-open-relay on both submission listeners: "Server isn\'t an open relay, authentication needed" (MAIL before AUTH is 530)', explained(async (t) => {
    assert.equal(script(t, ports.sub, 'smtp-open-relay'), "Server isn't an open relay, authentication needed");
    assert.equal(script(t, ports.subs, 'smtp-open-relay'), "Server isn't an open relay, authentication needed");
  }));

  test('smtp-open-relay on the MX: KNOWN OUTCOME, not nmap\'s verdict: Portico closes with 421 after 10 refused attempts, so nmap stops at attempt 11 of 16; none of the 10 relayed', explained(async (t) => {
    explainPortico(t);
    // Each of nmap's relay tricks costs one error reply (554 5.7.1 Relaying denied or 501 5.1.3 for
    // the malformed paths), and Portico's maxErrors (10, not configurable in portico.toml) ends the
    // session with "421 4.7.0 ... too many errors" right after the 10th, before nmap's next RSET.
    // Depending on whether that 421 arrives in the same read as the 10th refusal, nmap reports the
    // 421 (with or without its CRLF) or the closed connection. Either way the script reached its error path with an empty list
    // of relayed combinations: had any of the 10 been accepted, it would print "Server is an open
    // relay (n/16 tests)" instead.
    const output = script(t, ports.mx, 'smtp-open-relay');
    assert.match(output, new RegExp(`^(SMTP: RSET 421 4\\.7\\.0 ${HOST.replace(/\./g, '\\.')} Error: too many errors[\\r\\n]*|SMTP RSET: failed to receive data: connection closed)$`));
    assert.doesNotMatch(output, /open relay/);
    const event = await portico.waitForLog((l) => l.msg === 'security event' && l.reason === 'too-many-errors');
    assert.equal(event.event, 'scan');
  }));

  test('smtp-enum-users: VRFY answers 252 and EXPN 502 (RFC 5321 3.5.3, 4.2.4): nmap finds no accounts on any listener', explained(async (t) => {
    // A server that does not verify answers 252, never 250/550, and one that does not expand lists
    // answers 502: nmap stops both methods at once, with nothing enumerated.
    for (const port of [ports.mx, ports.sub, ports.subs]) {
      assert.equal(script(t, port, 'smtp-enum-users'), "\n  Couldn't find any accounts\n", `port ${port}`);
    }
  }));

  test('ssl-enum-ciphers over STARTTLS (MX, submission) and implicit TLS: TLS 1.2 and 1.3 only, every cipher graded A', explained(async (t) => {
    for (const port of [ports.mx, ports.sub, ports.subs]) {
      const output = script(t, port, 'ssl-enum-ciphers');
      assert.match(output, /^\n {2}TLSv1\.2: \n[\s\S]*\n {2}TLSv1\.3: \n/, `port ${port}`);
      assert.doesNotMatch(output, /SSLv3|TLSv1\.0|TLSv1\.1/, `port ${port}`);
      assert.match(output, /least strength: A$/, `port ${port}`);
      const grades = [...output.matchAll(/^ {6}TLS_\S+ \([^)]*\) - ([A-F])$/gm)].map((m) => m[1]);
      assert.ok(grades.length > 0, `port ${port}: no ciphers listed`);
      assert.deepEqual([...new Set(grades)], ['A'], `port ${port}`);
    }
  }));

  test('ssl-heartbleed, ssl-poodle, ssl-ccs-injection, ssl-dh-params over STARTTLS and implicit TLS: NOT VULNERABLE', explained(async (t) => {
    for (const port of [ports.mx, ports.sub, ports.subs]) {
      for (const id of ['ssl-heartbleed', 'ssl-poodle', 'ssl-ccs-injection', 'ssl-dh-params']) {
        const output = script(t, port, id);
        assert.match(output, /State: NOT VULNERABLE/, `${id} on port ${port}`);
        assert.doesNotMatch(output, /State: (LIKELY )?VULNERABLE/, `${id} on port ${port}`);
      }
    }
  }));
});

// ---------------------------------------------------------------------------------------------
// nodemailer
// ---------------------------------------------------------------------------------------------

interface Wire {
  readonly lines: string[];
  readonly logger: { debug: (...a: unknown[]) => void; info: (...a: unknown[]) => void; trace: () => void; warn: () => void; error: () => void; fatal: () => void };
}

/** nodemailer's debug log reduced to the SMTP traffic: "C: ..." for what it sent, "S: ..." for replies. */
function wire(): Wire {
  const lines: string[] = [];
  const record = (entry: unknown, message: unknown, ...args: unknown[]) => {
    const tnx = (entry as { tnx?: string } | undefined)?.tnx;
    if (tnx === 'client' || tnx === 'server') lines.push(`${tnx === 'client' ? 'C' : 'S'}: ${format(String(message), ...args)}`);
  };
  return { lines, logger: { debug: record, info: record, trace: () => {}, warn: () => {}, error: () => {}, fatal: () => {} } };
}

describe('nodemailer (npm) as the client', () => {
  test('submission, STARTTLS required: verify() with AUTH PLAIN and with AUTH LOGIN; a wrong password is EAUTH 535', explained(async (t) => {
    explainPortico(t);
    for (const authMethod of ['PLAIN', 'LOGIN']) {
      const w = wire();
      explainOnFailure(t, `nodemailer ${authMethod}`, () => w.lines.join('\n'));
      const transport = nodemailer.createTransport({
        host: '127.0.0.1', port: ports.sub, requireTLS: true, tls: { rejectUnauthorized: false }, name: HELO,
        auth: { user: ACCOUNT, pass: TEST_PASSWORD }, authMethod, logger: w.logger, debug: true,
      });
      assert.equal(await transport.verify(), true);
      transport.close();
      assert.ok(w.lines.includes('C: STARTTLS'), 'STARTTLS sent');
      assert.ok(w.lines.includes('S: 220 2.0.0 Ready to start TLS'));
      const ehlos = w.lines.filter((l) => l === `C: EHLO ${HELO}`);
      assert.equal(ehlos.length, 2, 'EHLO again after STARTTLS (RFC 3207 4.2)');
      assert.ok(w.lines.some((l) => l.startsWith('S: 250-') && l.includes('AUTH PLAIN LOGIN')), 'AUTH offered after TLS');
      assert.ok(w.lines.some((l) => l.startsWith(`C: AUTH ${authMethod}`)), `AUTH ${authMethod} sent`);
      assert.ok(w.lines.includes('S: 235 2.7.0 Authentication successful'));
    }
    const bad = nodemailer.createTransport({
      host: '127.0.0.1', port: ports.sub, requireTLS: true, tls: { rejectUnauthorized: false }, name: HELO,
      auth: { user: ACCOUNT, pass: 'wrong-password' },
    });
    await assert.rejects(bad.verify(), (error: { code?: string; responseCode?: number; response?: string }) => {
      assert.equal(error.code, 'EAUTH');
      assert.equal(error.responseCode, 535);
      assert.equal(error.response, '535 5.7.8 Authentication credentials invalid');
      return true;
    });
    bad.close();
  }));

  test('submission, STARTTLS: one message to three recipients, pipelined (MAIL, 3 RCPT, DATA in one write): one accepted, the unknown and the SMTPUTF8 one refused 550; dot-stuffed lines stored unstuffed', explained(async (t) => {
    explainPortico(t);
    const w = wire();
    explainOnFailure(t, 'nodemailer', () => w.lines.join('\n'));
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: ports.sub, requireTLS: true, tls: { rejectUnauthorized: false }, name: HELO,
      auth: { user: ACCOUNT, pass: TEST_PASSWORD }, logger: w.logger, debug: true,
    });
    const info = await transport.sendMail({
      from: ACCOUNT,
      to: [ACCOUNT, UNKNOWN, 'ünï@example.test'],
      subject: 'nodemailer conformance',
      text: '.leading dot\n..two dots\n.\nlast line\n',
    });
    transport.close();
    assert.deepEqual(info.accepted, [ACCOUNT]);
    assert.deepEqual(info.rejected, [UNKNOWN, 'ünï@example.test']);
    assert.deepEqual(info.rejectedErrors?.map((e) => (e as { response?: string }).response), ['550 5.1.1 No such user here', '550 5.1.1 No such user here']);
    // RFC 2920: the envelope went out before any reply was read; SMTPUTF8 (RFC 6531) because of the
    // internationalized recipient.
    const mailAt = w.lines.indexOf(`C: MAIL FROM:<${ACCOUNT}> SMTPUTF8`);
    assert.ok(mailAt >= 0, 'MAIL FROM with SMTPUTF8');
    assert.deepEqual(w.lines.slice(mailAt, mailAt + 5), [
      `C: MAIL FROM:<${ACCOUNT}> SMTPUTF8`, `C: RCPT TO:<${ACCOUNT}>`, `C: RCPT TO:<${UNKNOWN}>`, 'C: RCPT TO:<ünï@example.test>', 'C: DATA',
    ]);
    assert.deepEqual(w.lines.slice(mailAt + 5, mailAt + 10), [
      'S: 250 2.1.0 Sender OK', 'S: 250 2.1.5 Recipient OK', 'S: 550 5.1.1 No such user here', 'S: 550 5.1.1 No such user here',
      'S: 354 End data with <CR><LF>.<CR><LF>',
    ]);
    const message = await storedMessage(portico.dir, ACCOUNT, queuedId(info.response));
    assert.equal(body(message), '.leading dot\r\n..two dots\r\n.\r\nlast line\r\n');
  }));

  test('submission with implicit TLS (secure: true): AUTH PLAIN, message stored with ESMTPSA', explained(async (t) => {
    explainPortico(t);
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: ports.subs, secure: true, tls: { rejectUnauthorized: false }, name: HELO,
      auth: { user: ACCOUNT, pass: TEST_PASSWORD }, authMethod: 'PLAIN',
    });
    const info = await transport.sendMail({ from: ACCOUNT, to: ACCOUNT, subject: 'implicit tls', text: 'hello\n' });
    transport.close();
    assert.deepEqual(info.accepted, [ACCOUNT]);
    const message = await storedMessage(portico.dir, ACCOUNT, queuedId(info.response));
    assert.match(message, /\r\n\tby mail\.example\.test \(Portico\) with ESMTPSA \(TLSv1\.3, /);
  }));

  test('MX without AUTH: opportunistic STARTTLS, local recipient accepted (ESMTPS), a foreign one refused 554 5.7.1 (no relaying)', explained(async (t) => {
    explainPortico(t);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: ports.mx, tls: { rejectUnauthorized: false }, name: HELO });
    const info = await transport.sendMail({ from: SENDER, to: [ACCOUNT, `someone@${FOREIGN}`], subject: 'mx', text: 'to the mx\n' });
    assert.deepEqual(info.accepted, [ACCOUNT]);
    assert.deepEqual(info.rejected, [`someone@${FOREIGN}`]);
    assert.equal((info.rejectedErrors?.[0] as { response?: string } | undefined)?.response, '554 5.7.1 Relaying denied');
    const message = await storedMessage(portico.dir, ACCOUNT, queuedId(info.response));
    assert.match(message, /\r\n\tby mail\.example\.test \(Portico\) with ESMTPS \(TLSv1\.3, /);
    await assert.rejects(
      transport.sendMail({ from: SENDER, to: `someone@${FOREIGN}`, subject: 'relay', text: 'x\n' }),
      (error: { code?: string; response?: string }) => error.code === 'EENVELOPE' && error.response === '554 5.7.1 Relaying denied',
    );
    transport.close();
  }));
});

// ---------------------------------------------------------------------------------------------
// curl
// ---------------------------------------------------------------------------------------------

/** curl -v: the SMTP lines it sent ("> ") and received ("< "), in order. */
function curlWire(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('> ') || l.startsWith('< ')).map((l) => l.replace(/\r$/, ''));
}

async function curl(t: TestContext, args: readonly string[], input?: string) {
  const result = await runCommand('curl', ['-sS', '-v', '--max-time', '10', ...args], input === undefined ? {} : { input });
  explainOnFailure(t, `curl ${args.join(' ')}`, () => `exit ${result.code}\n${result.stderr}\n${result.stdout}`);
  return { ...result, wire: curlWire(result.stderr) };
}

describe('curl (SMTP client) as the client', () => {
  test('MX: HELP is 214, VRFY is 252, NOOP is 250, EXPN is 502 (RFC 5321 4.2.4; curl exits 8)', explained(async (t) => {
    explainPortico(t);
    const url = `smtp://127.0.0.1:${ports.mx}/${HELO}`;
    const help = await curl(t, [url]);
    assert.equal(help.code, 0);
    assert.deepEqual(help.wire.slice(-2), ['> HELP', `< 214 ${HELP_TEXT}`]);
    assert.equal(help.stdout, `214 ${HELP_TEXT}\r\n`);
    const vrfy = await curl(t, [url, '--mail-rcpt', ACCOUNT]);
    assert.equal(vrfy.code, 0);
    assert.deepEqual(vrfy.wire.slice(-2), [`> VRFY ${ACCOUNT}`, `< 252 ${VRFY_TEXT}`]);
    const noop = await curl(t, [url, '-X', 'NOOP']);
    assert.equal(noop.code, 0);
    assert.deepEqual(noop.wire.slice(-2), ['> NOOP', '< 250 2.0.0 OK']);
    // Portico does not expand lists: RFC 5321 4.2.4's 502 for a recognised, unimplemented command.
    const expn = await curl(t, [url, '-X', 'EXPN', '--mail-rcpt', 'list']);
    assert.equal(expn.code, 8);
    assert.ok(expn.wire.includes('< 502 5.5.1 Command not implemented'), expn.wire.join('\n'));
  }));

  test('submission: --ssl-reqd STARTTLS, AUTH LOGIN, MAIL with AUTH= and SIZE= (RFC 4954 5, RFC 1870), leading dots escaped by curl and stored unescaped', explained(async (t) => {
    explainPortico(t);
    const message = `From: ${ACCOUNT}\r\nTo: ${ACCOUNT}\r\nSubject: curl login\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n`;
    // From a file, not stdin: curl sends SIZE= only when it knows the size beforehand.
    const dir = makeTempDir('curl-');
    t.after(() => dir.remove());
    const file = join(dir.path, 'message.eml');
    writeFileSync(file, message);
    const result = await curl(t, [
      '--ssl-reqd', '-k', '--login-options', 'AUTH=LOGIN', '-u', `${ACCOUNT}:${TEST_PASSWORD}`,
      `smtp://127.0.0.1:${ports.sub}/${HELO}`, '--mail-from', ACCOUNT, '--mail-auth', ACCOUNT, '--mail-rcpt', ACCOUNT, '-T', file,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.wire.includes('> STARTTLS') && result.wire.includes('< 220 2.0.0 Ready to start TLS'));
    assert.ok(result.wire.includes('< 250-AUTH PLAIN LOGIN'));
    assert.ok(result.wire.includes('< 235 2.7.0 Authentication successful'));
    const mailAt = result.wire.indexOf(`> MAIL FROM:<${ACCOUNT}> AUTH=<${ACCOUNT}> SIZE=${Buffer.byteLength(message)}`);
    assert.ok(mailAt >= 0, result.wire.join('\n'));
    assert.equal(result.wire[mailAt + 1], '< 250 2.1.0 Sender OK');
    const id = queuedId(result.stderr);
    assert.equal(body(await storedMessage(portico.dir, ACCOUNT, id)), '.leading dot\r\n..two dots\r\n.\r\nend\r\n');
  }));

  test('submission: AUTH PLAIN with an empty initial response (334 then the credentials), --mail-rcpt-allowfails: the unknown recipient 550, the message stored for the other', explained(async (t) => {
    explainPortico(t);
    const result = await curl(t, [
      '--ssl-reqd', '-k', '--login-options', 'AUTH=PLAIN', '-u', `${ACCOUNT}:${TEST_PASSWORD}`,
      `smtp://127.0.0.1:${ports.sub}/${HELO}`, '--mail-from', ACCOUNT, '--mail-rcpt', ACCOUNT, '--mail-rcpt', UNKNOWN,
      '--mail-rcpt-allowfails', '-T', '-',
    ], `Subject: curl plain\r\n\r\nhello\r\n`);
    assert.equal(result.code, 0, result.stderr);
    const authAt = result.wire.indexOf('> AUTH PLAIN');
    assert.ok(authAt >= 0);
    assert.equal(result.wire[authAt + 1], '< 334 ');
    assert.equal(result.wire[authAt + 3], '< 235 2.7.0 Authentication successful');
    assert.equal(result.wire[result.wire.indexOf(`> RCPT TO:<${UNKNOWN}>`) + 1], '< 550 5.1.1 No such user here');
    await storedMessage(portico.dir, ACCOUNT, queuedId(result.stderr));
  }));

  test('submission over implicit TLS (smtps://): AUTH and delivery; MX: a foreign recipient is refused 554 and curl exits 55', explained(async (t) => {
    explainPortico(t);
    const smtps = await curl(t, [
      '-k', '-u', `${ACCOUNT}:${TEST_PASSWORD}`, `smtps://127.0.0.1:${ports.subs}/${HELO}`,
      '--mail-from', ACCOUNT, '--mail-rcpt', ACCOUNT, '-T', '-',
    ], 'Subject: curl smtps\r\n\r\nhello\r\n');
    assert.equal(smtps.code, 0, smtps.stderr);
    await storedMessage(portico.dir, ACCOUNT, queuedId(smtps.stderr));
    const relay = await curl(t, [
      `smtp://127.0.0.1:${ports.mx}/${HELO}`, '--mail-from', SENDER, '--mail-rcpt', `x@${FOREIGN}`, '-T', '-',
    ], 'Subject: relay\r\n\r\nx\r\n');
    assert.equal(relay.code, 55, 'CURLE_SEND_ERROR: "RCPT failed"');
    assert.ok(relay.wire.includes('< 554 5.7.1 Relaying denied'));
  }));
});

// ---------------------------------------------------------------------------------------------
// Python smtplib
// ---------------------------------------------------------------------------------------------

const SMTPLIB_SCRIPT = String.raw`
import smtplib, ssl, sys, json
mx, sub, subs, user, pw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
out = {}
def text(v): return v.decode('utf-8', 'replace') if isinstance(v, bytes) else v
def rec(k, v): out[k] = [v[0], text(v[1])] if isinstance(v, tuple) else v
def refused(d): return {k: [c, text(m)] for k, (c, m) in d.items()}
ctx = ssl._create_unverified_context()
s = smtplib.SMTP('127.0.0.1', mx, local_hostname='client.example.org', timeout=10)
rec('ehlo', s.ehlo())
rec('features', sorted(s.esmtp_features))
rec('help', text(s.help()))
rec('verify', s.verify(user))
rec('noop', s.noop())
rec('rset', s.rset())
rec('helo_again', s.helo('client.example.org'))
rec('ehlo_again', s.ehlo('client.example.org'))
rec('partial', refused(s.sendmail('someone@example.org', [user, 'nobody@example.test'], b'Subject: smtplib 8bit\r\n\r\n\xc3\x9cmlaut\r\n.dot\r\n', mail_options=['BODY=8BITMIME'])))
try:
    s.sendmail('someone@example.org', ['x@relay.example.net'], 'Subject: x\r\n\r\nx\r\n')
except smtplib.SMTPRecipientsRefused as e: rec('relay', refused(e.recipients))
try:
    s.sendmail('someone@example.org', [user], 'Subject: x\r\n\r\nx\r\n', mail_options=['SIZE=999999999'])
except smtplib.SMTPSenderRefused as e: rec('size', [e.smtp_code, text(e.smtp_error)])
for key, rcpt in (('postmaster_bare', 'Postmaster'), ('postmaster_domain', 'postmaster@example.test')):
    try: rec(key, refused(s.sendmail('someone@example.org', [rcpt], 'Subject: to the postmaster\r\n\r\nhello\r\n')))
    except smtplib.SMTPRecipientsRefused as e: rec(key, refused(e.recipients))
rec('starttls', s.starttls(context=ctx))
rec('tls_ehlo', s.ehlo())
rec('tls_features', sorted(s.esmtp_features))
rec('smtputf8', refused(s.sendmail('sömeone@example.org', [user], 'Subject: ütf8\r\n\r\nhello ü\r\n'.encode(), mail_options=['SMTPUTF8', 'BODY=8BITMIME'])))
rec('quit', s.quit())
s = smtplib.SMTP('127.0.0.1', sub, local_hostname='client.example.org', timeout=10)
s.ehlo()
rec('sub_features', sorted(s.esmtp_features))
try: s.login(user, pw)
except smtplib.SMTPNotSupportedError as e: rec('sub_login_plain', str(e))
try: s.sendmail(user, [user], 'x')
except smtplib.SMTPSenderRefused as e: rec('sub_mail_plain', [e.smtp_code, text(e.smtp_error)])
s.starttls(context=ctx); s.ehlo()
try: s.login(user, 'wrong-password')
except smtplib.SMTPAuthenticationError as e: rec('bad_login', [e.smtp_code, text(e.smtp_error)])
s.user, s.password = user, pw
rec('auth_login', s.auth('LOGIN', s.auth_login))
try: s.sendmail('other@example.test', [user], 'x')
except smtplib.SMTPSenderRefused as e: rec('not_owned', [e.smtp_code, text(e.smtp_error)])
s.quit()
s = smtplib.SMTP_SSL('127.0.0.1', subs, local_hostname='client.example.org', timeout=10, context=ctx)
s.ehlo()
rec('subs_features', sorted(s.esmtp_features))
s.user, s.password = user, pw
rec('auth_plain', s.auth('PLAIN', s.auth_plain))
rec('subs_send', refused(s.sendmail(user, [user], 'Subject: implicit\r\n\r\nvia SMTP_SSL\r\n')))
s.quit()
print(json.dumps(out))
`;

describe('Python smtplib as the client', () => {
  let out: Record<string, unknown>;
  let transcript = '';

  before(async () => {
    const result = await runCommand('python3', ['-c', SMTPLIB_SCRIPT, String(ports.mx), String(ports.sub), String(ports.subs), ACCOUNT, TEST_PASSWORD]);
    transcript = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    assert.equal(result.code, 0, transcript);
    out = JSON.parse(result.stdout) as Record<string, unknown>;
  });

  test('MX, submission and implicit TLS: every smtplib call answered as RFC 5321/3207/4954/6531 expect', explained(async (t) => {
    explainPortico(t);
    explainOnFailure(t, 'python', () => transcript);
    const { postmaster_bare: _bare, postmaster_domain: _domain, ...rest } = out;
    const plainFeatures = ['8bitmime', 'chunking', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8', 'starttls'];
    const ehloText = `${HOST} greets ${HELO} [127.0.0.1]\nPIPELINING\nSIZE 26214400\n8BITMIME\nCHUNKING\nENHANCEDSTATUSCODES\nSTARTTLS\nSMTPUTF8`;
    assert.deepEqual(rest, {
      ehlo: [250, ehloText],
      features: plainFeatures,
      help: HELP_TEXT,
      verify: [252, VRFY_TEXT],
      noop: [250, '2.0.0 OK'],
      rset: [250, '2.0.0 Reset OK'],
      // RFC 5321 4.1.4: HELO/EHLO again in a session is allowed and resets it.
      helo_again: [250, `${HOST} greets ${HELO}`],
      ehlo_again: [250, ehloText],
      partial: { [UNKNOWN]: [550, '5.1.1 No such user here'] },
      relay: { [`x@${FOREIGN}`]: [554, '5.7.1 Relaying denied'] },
      size: [552, '5.3.4 Message size exceeds fixed maximum message size of 26214400 bytes'],
      starttls: [220, '2.0.0 Ready to start TLS'],
      tls_ehlo: [250, `${HOST} greets ${HELO} [127.0.0.1]\nPIPELINING\nSIZE 26214400\n8BITMIME\nCHUNKING\nENHANCEDSTATUSCODES\nSMTPUTF8`],
      tls_features: ['8bitmime', 'chunking', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8'],
      smtputf8: {},
      quit: [221, `2.0.0 ${HOST} closing connection`],
      sub_features: plainFeatures,
      sub_login_plain: 'SMTP AUTH extension not supported by server.',
      sub_mail_plain: [530, '5.7.0 Authentication required'],
      bad_login: [535, '5.7.8 Authentication credentials invalid'],
      auth_login: [235, '2.7.0 Authentication successful'],
      not_owned: [553, `5.7.1 Sender address is not owned by ${ACCOUNT}`],
      subs_features: ['8bitmime', 'auth', 'chunking', 'enhancedstatuscodes', 'pipelining', 'size', 'smtputf8'],
      auth_plain: [235, '2.7.0 Authentication successful'],
      subs_send: {},
    });
    const files = storedFiles(portico.dir, ACCOUNT).map((f) => f.text);
    const eightBit = files.find((f) => f.includes('Subject: smtplib 8bit'));
    assert.ok(eightBit);
    assert.equal(Buffer.from(body(eightBit), 'latin1').toString('utf8'), 'Ümlaut\r\n.dot\r\n', '8-bit body byte for byte; smtplib dot-stuffed the ".dot" line');
    const utf8 = files.find((f) => f.startsWith('Return-Path: <s\xc3\xb6meone@example.org>\r\n'));
    assert.ok(utf8, 'the SMTPUTF8 sender is the Return-Path, in UTF-8');
  }));

  test('RFC 5321 4.5.1: RCPT TO:<Postmaster> and RCPT TO:<postmaster@example.test> are accepted and stored in the postmaster Maildir', explained(async (t) => {
    explainOnFailure(t, 'python', () => transcript);
    // A server that delivers mail MUST accept "postmaster" (case-insensitive) at every domain it
    // serves, and the bare "RCPT TO:<Postmaster>" (4.1.1.3), also without such an account: it goes to
    // mail.postmaster, by default postmaster@<first domain>. smtplib sends both as RFC 5321 writes them.
    assert.deepEqual(out.postmaster_bare, {});
    assert.deepEqual(out.postmaster_domain, {});
    const stored = storedFiles(portico.dir, 'postmaster@example.test').map((f) => f.text);
    assert.equal(stored.filter((f) => f.includes('Subject: to the postmaster')).length, 2);
  }));
});

// ---------------------------------------------------------------------------------------------
// swaks
// ---------------------------------------------------------------------------------------------

describe('swaks as the client', () => {
  test('--pipeline: MAIL, RCPT x2, DATA in one write; the unknown recipient 550, the message stored for the other; with no valid recipient DATA is 554 (RFC 2920 3.1)', explained(async (t) => {
    explainPortico(t);
    const some = await swaks([
      '--server', `127.0.0.1:${ports.mx}`, '--ehlo', HELO, '--pipeline', '--from', SENDER, '--to', `${ACCOUNT},${UNKNOWN}`,
      '--body', '.dot line\n..two dots\nend',
    ]);
    explainOnFailure(t, 'swaks (some)', () => some.transcript);
    assert.equal(some.code, 0);
    assert.match(some.transcript, new RegExp(` -> MAIL FROM:<${SENDER}>\\n -> RCPT TO:<${ACCOUNT}>\\n -> RCPT TO:<${UNKNOWN}>\\n -> DATA\\n` +
      '<-  250 2\\.1\\.0 Sender OK\\n<-  250 2\\.1\\.5 Recipient OK\\n<\\*\\* 550 5\\.1\\.1 No such user here\\n<-  354 '));
    assert.match(body(await storedMessage(portico.dir, ACCOUNT, queuedId(some.transcript))), /^\.dot line\r\n\.\.two dots\r\nend\r\n/);
    const none = await swaks(['--server', `127.0.0.1:${ports.mx}`, '--ehlo', HELO, '--pipeline', '--from', SENDER, '--to', UNKNOWN]);
    explainOnFailure(t, 'swaks (none)', () => none.transcript);
    assert.notEqual(none.code, 0);
    assert.match(none.transcript, /<\*\* 550 5\.1\.1 No such user here\n<\*\* 554 5\.5\.1 No valid recipients\n -> QUIT\n<-  221 /);
  }));

  test('--protocol SMTP: HELO instead of EHLO, a whole transaction', explained(async (t) => {
    explainPortico(t);
    const result = await swaks(['--server', `127.0.0.1:${ports.mx}`, '--protocol', 'SMTP', '--helo', HELO, '--from', SENDER, '--to', ACCOUNT]);
    explainOnFailure(t, 'swaks', () => result.transcript);
    assert.equal(result.code, 0);
    assert.match(result.transcript, new RegExp(` -> HELO ${HELO}\\n<-  250 ${HOST} greets ${HELO}\\n`));
    const message = await storedMessage(portico.dir, ACCOUNT, queuedId(result.transcript));
    assert.match(message, /\r\n\tby mail\.example\.test \(Portico\) with SMTP\r\n/);
  }));
});
