import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailAuthenticator } from './authenticator.ts';
import { createResolver } from './resolver.ts';
import { startTestDnsServer } from './test-dns-server.ts';
import type { TestDnsServer } from './test-dns-server.ts';

/** The `[resolver] nameservers` path end to end: node:dns against a local DNS server, no real DNS. */
let dns: TestDnsServer;
before(async () => {
  dns = await startTestDnsServer({
    'example.org': { TXT: ['v=spf1 ip4:127.0.0.7 -all'] },
    '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
    'mx.example.org': { A: ['127.0.0.7'], AAAA: ['2001:db8::7'] },
    '7.0.0.127.in-addr.arpa': { PTR: ['mx.example.org'] },
    'long.example.org': { TXT: ['v=spf1 ' + 'ip4:192.0.2.1 '.repeat(30) + '-all'] },
  });
});
after(() => dns.close());

test('createResolver answers from the configured nameserver', async () => {
  const resolve = createResolver({ nameservers: [dns.address], timeoutMs: 1000 });
  assert.deepEqual(await resolve('example.org', 'TXT'), [['v=spf1 ip4:127.0.0.7 -all']]);
  assert.deepEqual(await resolve('mx.example.org', 'A'), ['127.0.0.7']);
  assert.deepEqual(await resolve('mx.example.org', 'AAAA'), ['2001:db8::7']);
  const long = (await resolve('long.example.org', 'TXT')) as string[][];
  assert.ok(long[0]!.join('').startsWith('v=spf1 ip4:192.0.2.1'));
  await assert.rejects(resolve('nothing.example.org', 'TXT'), { code: 'ENOTFOUND' });
});

test('SPF through the local DNS server: pass for 127.0.0.7, fail for 127.0.0.1; DMARC reject refused', async () => {
  const auth = new MailAuthenticator({ hostname: 'mail.example.test', nameservers: [dns.address], timeoutMs: 1000 });
  assert.equal((await auth.checkSpf({ ip: '127.0.0.7', helo: 'mx.example.org', sender: 'x@example.org' })).result, 'pass');
  assert.equal((await auth.checkSpf({ ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' })).result, 'fail');
  assert.equal(await auth.reverseName('127.0.0.7'), 'mx.example.org');
  const message = Buffer.from('From: x@example.org\r\nTo: alice@example.test\r\nSubject: t\r\n\r\nhi\r\n');
  const pass = await auth.authenticate({ message, ip: '127.0.0.7', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.match(pass.header, /spf=pass/);
  assert.equal(pass.verdict.kind, 'allow');
  const fail = await auth.authenticate({ message, ip: '127.0.0.1', helo: 'mx.example.org', sender: 'x@example.org' });
  assert.match(fail.header, /spf=fail/);
  assert.ok(fail.verdict.kind === 'refuse' && fail.verdict.reason === 'dmarc-policy' && !fail.verdict.temporary);
});
