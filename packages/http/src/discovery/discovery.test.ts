import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, request } from '../test-support.ts';
import type { DiscoveryOptions } from './types.ts';

const DISCOVERY: DiscoveryOptions = {
  hostname: 'mail.example.test',
  domains: ['example.test', 'other.test'],
  services: [
    { protocol: 'smtp', port: 25, tls: 'starttls' },
    { protocol: 'imap', port: 993, tls: 'implicit' },
    { protocol: 'submission', port: 465, tls: 'implicit' },
    { protocol: 'submission', port: 587, tls: 'starttls' },
    { protocol: 'pop3', port: 995, tls: 'implicit' },
  ],
};

test('Thunderbird autoconfig lists the public services from the configuration, never the Host header', async (t) => {
  const h = await harness({ discovery: DISCOVERY });
  t.after(() => h.close());
  for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40other.test', '/mail/config-v1.1.xml?emailaddress=bob%40other.test']) {
    const res = await request(`${h.url}${path}`, { host: 'evil.test', 'x-forwarded-host': 'evil.test' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/xml/);
    const xml = res.text;
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">'));
    assert.match(xml, /<emailProvider id="other\.test">/);
    assert.match(xml, /<domain>example\.test<\/domain>\n    <domain>other\.test<\/domain>/);
    assert.doesNotMatch(xml, /evil/);
    const servers = [...xml.matchAll(/<(incoming|outgoing)Server type="(\w+)">\s*<hostname>([^<]+)<\/hostname>\s*<port>(\d+)<\/port>\s*<socketType>(\w+)<\/socketType>/g)]
      .map((m) => `${m[1]} ${m[2]} ${m[3]}:${m[4]} ${m[5]}`);
    assert.deepEqual(servers, [
      'incoming imap mail.example.test:993 SSL',
      'incoming pop3 mail.example.test:995 SSL',
      'outgoing smtp mail.example.test:465 SSL',
      'outgoing smtp mail.example.test:587 STARTTLS',
      'outgoing smtp mail.example.test:25 STARTTLS',
    ]);
    assert.equal((xml.match(/<username>%EMAILADDRESS%<\/username>/g) ?? []).length, 5);
  }
});

test('autoconfig escapes everything it prints, and ignores an address it does not serve', async (t) => {
  const h = await harness({ discovery: { hostname: 'mail.example.test', domains: ['a&b<c>"\'.test'], services: [{ protocol: 'imap', port: 143, tls: 'starttls' }] } });
  t.after(() => h.close());
  const res = await fetch(`${h.url}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent('x@"><evil/>')}`);
  const xml = await res.text();
  assert.match(xml, /<emailProvider id="a&amp;b&lt;c&gt;&quot;&apos;\.test">/);
  assert.match(xml, /<domain>a&amp;b&lt;c&gt;&quot;&apos;\.test<\/domain>/);
  assert.doesNotMatch(xml, /evil/);
});

test('Microsoft autodiscover answers POX settings with the requested address as login name', async (t) => {
  const h = await harness({ discovery: DISCOVERY });
  t.after(() => h.close());
  const body = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>bob@example.test</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>`;
  for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
    const res = await request(`${h.url}${path}`, { 'content-type': 'text/xml', host: 'evil.test' }, 'POST', body);
    assert.equal(res.status, 200, path);
    const xml = res.text;
    assert.match(xml, /<Response xmlns="http:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/responseschema\/2006a">/);
    const protocols = [...xml.matchAll(/<Type>(\w+)<\/Type>\s*<Server>([^<]+)<\/Server>\s*<Port>(\d+)<\/Port>\s*<LoginName>([^<]+)<\/LoginName>[\s\S]*?<Encryption>(\w+)<\/Encryption>/g)]
      .map((m) => `${m[1]} ${m[2]}:${m[3]} ${m[4]} ${m[5]}`);
    assert.deepEqual(protocols, [
      'IMAP mail.example.test:993 bob@example.test SSL',
      'POP3 mail.example.test:995 bob@example.test SSL',
      'SMTP mail.example.test:465 bob@example.test SSL',
      'SMTP mail.example.test:587 bob@example.test TLS',
      'SMTP mail.example.test:25 bob@example.test TLS',
    ]);
    assert.doesNotMatch(xml, /evil/);
  }
  // A hostile address is not echoed.
  const res = await fetch(`${h.url}/autodiscover/autodiscover.xml`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: '<Autodiscover><Request><EMailAddress>&lt;x&gt;@"evil</EMailAddress></Request></Autodiscover>',
  });
  const xml = await res.text();
  assert.doesNotMatch(xml, /LoginName|evil/);
  assert.match(xml, /<Type>IMAP<\/Type>/);
});

test('without discovery options there are no discovery routes', async (t) => {
  const h = await harness({});
  t.after(() => h.close());
  assert.equal((await fetch(`${h.url}/mail/config-v1.1.xml`)).status, 404);
});
