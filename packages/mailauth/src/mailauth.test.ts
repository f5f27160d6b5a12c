import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { dkimSign } from 'mailauth';
import { MailAuthenticator, reverseZoneName } from './authenticator.ts';
import { createResolver } from './resolver.ts';
import { parseVerifyMode } from './policy.ts';
import type { DnsResolver } from './resolver.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimPublic = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function zone(records: Record<string, string[][] | string[]>): DnsResolver {
  return async (name, type) => {
    const answer = records[`${type} ${name.toLowerCase()}`];
    if (answer) return answer;
    throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
}

const ZONE = {
  'TXT example.org': [['v=spf1 ip4:127.0.0.7 -all']],
  'TXT _dmarc.example.org': [['v=DMARC1; p=reject']],
  'TXT sel._domainkey.example.org': [[`v=DKIM1; k=rsa; p=${dkimPublic}`]],
  'PTR 7.0.0.127.in-addr.arpa': ['mx.example.org'],
  'A mx.example.org': ['127.0.0.7'],
};

const MESSAGE = Buffer.from(
  'From: Sender <x@example.org>\r\nTo: alice@example.test\r\nSubject: test\r\nMessage-ID: <1@example.org>\r\nDate: Mon, 23 Nov 2026 01:00:00 +0000\r\n\r\nHello\r\n',
);

function auth(policy?: { spf?: 'relaxed' | 'strict' | 'disable'; dkim?: 'relaxed' | 'strict' | 'disable'; dmarc?: 'relaxed' | 'strict' | 'disable' }, resolver: DnsResolver = zone(ZONE)) {
  return new MailAuthenticator({
    hostname: 'mail.example.test',
    resolver,
    timeoutMs: 300,
    policy: { spf: policy?.spf ?? 'relaxed', dkim: policy?.dkim ?? 'relaxed', dmarc: policy?.dmarc ?? 'relaxed' },
  });
}

test('SPF: pass for 127.0.0.7, fail for 127.0.0.1; relaxed allows the fail, strict refuses it', async () => {
  const pass = await auth().checkSpf({ ip: '127.0.0.7', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.equal(pass.result, 'pass');
  assert.equal(pass.verdict.kind, 'allow');
  assert.match(pass.header, /^Received-SPF: pass/);
  const fail = await auth().checkSpf({ ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.equal(fail.result, 'fail');
  assert.equal(fail.verdict.kind, 'allow');
  const strict = await auth({ spf: 'strict' }).checkSpf({ ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.deepEqual(strict.verdict.kind === 'refuse' && [strict.verdict.reason, strict.verdict.temporary], ['spf-fail', false]);
  const disabled = await auth({ spf: 'disable' }).checkSpf({ ip: '127.0.0.1', helo: 'h', sender: 'x@example.org' });
  assert.equal(disabled.verdict.kind, 'allow');
});

test('SPF: a DNS timeout is a temporary refusal, never allow or reject', async () => {
  const hang: DnsResolver = () => new Promise(() => {});
  const started = Date.now();
  const result = await auth({ spf: 'relaxed' }, hang).checkSpf({ ip: '127.0.0.7', helo: 'h.example.org', sender: 'x@example.org' });
  assert.ok(Date.now() - started < 3000);
  assert.equal(result.result, 'temperror');
  assert.ok(result.verdict.kind === 'refuse' && result.verdict.temporary && result.verdict.reason === 'spf-temperror');
});

test('authenticate: SPF pass aligns DMARC; Authentication-Results names spf, dmarc', async () => {
  const outcome = await auth().authenticate({ message: MESSAGE, ip: '127.0.0.7', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.equal(outcome.spf?.result, 'pass');
  assert.equal(outcome.dmarc?.result, 'pass');
  assert.equal(outcome.verdict.kind, 'allow');
  assert.match(outcome.header, /^Authentication-Results: mail\.example\.test;/);
  assert.match(outcome.header, /spf=pass/);
  assert.match(outcome.header, /dmarc=pass/);
  assert.match(outcome.header, /\r\n$/);
});

test('authenticate: DMARC fail with p=reject is refused even in relaxed mode; disable lets it through', async () => {
  const outcome = await auth().authenticate({ message: MESSAGE, ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.equal(outcome.spf?.result, 'fail');
  assert.equal(outcome.dmarc?.result, 'fail');
  assert.ok(outcome.verdict.kind === 'refuse' && !outcome.verdict.temporary && outcome.verdict.reason === 'dmarc-policy');
  assert.match(outcome.header, /spf=fail/);
  const off = await auth({ dmarc: 'disable' }).authenticate({ message: MESSAGE, ip: '127.0.0.1', helo: 'h', sender: 'x@example.org' });
  assert.equal(off.dmarc, undefined);
  assert.equal(off.verdict.kind, 'allow');
});

test('authenticate: a valid DKIM signature passes DMARC from any IP', async () => {
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // mailauth's typings describe a flat shape; the library (and its README) take signatureData.
  const options = { signatureData: [{ signingDomain: 'example.org', selector: 'sel', privateKey: key }] };
  const signed = await dkimSign(MESSAGE, options as unknown as Parameters<typeof dkimSign>[1]);
  assert.deepEqual(signed.errors, []);
  const message = Buffer.concat([Buffer.from(signed.signatures), MESSAGE]);
  const outcome = await auth().authenticate({ message, ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.deepEqual(outcome.dkim.map((d) => [d.domain, d.result]), [['example.org', 'pass']]);
  assert.equal(outcome.dmarc?.result, 'pass');
  assert.equal(outcome.verdict.kind, 'allow');
  assert.match(outcome.header, /dkim=pass/);
  // A tampered body fails DKIM; strict dkim refuses it (and DMARC fails with p=reject as well).
  const tampered = Buffer.from(message.toString().replace('Hello', 'Hullo'));
  const bad = await auth({ dkim: 'strict', dmarc: 'disable' }).authenticate({ message: tampered, ip: '127.0.0.7', helo: 'h', sender: 'x@example.org' });
  assert.notEqual(bad.dkim[0]?.result, 'pass');
  assert.ok(bad.verdict.kind === 'refuse' && bad.verdict.reason === 'dkim-fail');
});

test('authenticate: a DNS timeout makes a temporary refusal', async () => {
  const hang: DnsResolver = () => new Promise(() => {});
  const outcome = await auth({}, hang).authenticate({ message: MESSAGE, ip: '127.0.0.7', helo: 'h', sender: 'x@example.org' });
  assert.ok(outcome.verdict.kind === 'refuse' && outcome.verdict.temporary, JSON.stringify(outcome.verdict));
});

test('reverseName is forward-confirmed', async () => {
  assert.equal(await auth().reverseName('127.0.0.7'), 'mx.example.org');
  assert.equal(await auth().reverseName('127.0.0.1'), undefined);
  assert.equal(reverseZoneName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
});

test('createResolver: a nameserver that never answers times out as ETIMEOUT', async (t) => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const resolver = createResolver({ nameservers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 300 });
  await assert.rejects(resolver('example.org', 'TXT'), { code: 'ETIMEOUT' });
  assert.throws(() => createResolver({ nameservers: ['not an address'] }), { code: 'PORTICO_ERR_MAILAUTH_NAMESERVER' });
});

test('parseVerifyMode', () => {
  assert.equal(parseVerifyMode('spf', undefined), 'relaxed');
  assert.equal(parseVerifyMode('spf', 'strict'), 'strict');
  assert.throws(() => parseVerifyMode('dkim', 'on'), { code: 'PORTICO_ERR_MAILAUTH_VERIFY_MODE' });
});
