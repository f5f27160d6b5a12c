import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig, loadConfig } from './load.ts';
import { effectiveProxy } from './effective.ts';
import { formatProblem } from './issues.ts';

const rootConfig = new URL('../../../config.toml', import.meta.url).pathname;

function problems(text: string): string[] {
  const result = parseConfig(text, 'config.toml');
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.problems.map(formatProblem);
}

function valid(text: string) {
  const result = parseConfig(text, 'config.toml');
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

test('the root config.toml is valid, trusts nobody and uses high ports', () => {
  const result = loadConfig(rootConfig);
  if (!result.ok) assert.fail(result.problems.map(formatProblem).join('\n'));
  const config = result.config;
  assert.deepEqual(config.server.proxy['trusted-networks'], []);
  for (const listener of Object.values(config.server.listener)) {
    for (const bind of listener.bind) assert.ok(Number(bind.split(':').pop()) >= 1024, bind);
    assert.equal(effectiveProxy(config, listener).mode, 'none');
  }
});

test('defaults fill an empty file and the result is deeply frozen', () => {
  const config = valid('');
  assert.equal(config.server['shutdown-timeout'], 10_000);
  assert.equal(config.server.proxy.timeout, 5_000);
  assert.equal(config.server['auto-ban'].duration, 86_400_000);
  assert.equal(config.store.backend, 'sqlite');
  assert.ok(Object.isFrozen(config.server.proxy['trusted-networks']));
  assert.throws(() => {
    (config.server as { hostname: string }).hostname = 'x';
  });
});

test('a bad network names file, line, key path and what is expected', () => {
  const text = [
    '[server]',
    'hostname = "mail.example.test"',
    '',
    '[server.listener.smtp]',
    'protocol = "smtp"',
    'bind = ["127.0.0.1:2525"]',
    'proxy.trusted-networks = [',
    '  "10.0.0.0/8",',
    '  "10.0.0.0/33",',
    ']',
  ].join('\n');
  assert.deepEqual(problems(text), [
    'config.toml:9 server.listener.smtp.proxy.trusted-networks[1]: "10.0.0.0/33" is not an IP network (prefix must be 0-32 for IPv4)',
  ]);
});

test('every problem is reported at once', () => {
  const text = [
    '[server.proxy]',
    'trusted-netwroks = ["10.0.0.0/8"]',
    'timeout = "5 seconds"',
    '[server.listener.smtp]',
    'protocol = "smtp"',
    'bind = ["127.0.0.1:2525"]',
    'proxy.mode = "x-forwarded-for"',
    '[server.auto-ban]',
    'auth.rate = "ten per hour"',
  ].join('\n');
  const found = problems(text);
  assert.deepEqual(found, [
    'config.toml:3 server.proxy.timeout: "5 seconds" is not a duration such as "500ms", "5s", "2m", "1h", "1d" or "1w"',
    'config.toml:2 server.proxy.trusted-netwroks: unknown key (did you mean "trusted-networks"?)',
    'config.toml:9 server.auto-ban.auth.rate: "ten per hour" is not a rate "N/duration" such as "10/1h" or "120/1m"',
  ]);
});

test('x-forwarded-for on a mail listener is refused', () => {
  const found = problems('[server.listener.smtp]\nprotocol = "smtp"\nbind = ["127.0.0.1:2525"]\nproxy.mode = "x-forwarded-for"\n');
  assert.deepEqual(found, [
    'config.toml:4 server.listener.smtp.proxy.mode: "x-forwarded-for" works only on http listeners (this one speaks smtp); use "proxy-protocol" or "none"',
  ]);
});

test('IPv4-mapped IPv6 networks are refused with the IPv4 form suggested', () => {
  const found = problems('[server.proxy]\ntrusted-networks = ["::ffff:10.0.0.0/104"]\n');
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^config\.toml:2 server\.proxy\.trusted-networks\[0\]: "::ffff:10\.0\.0\.0\/104" is not an IP network \(IPv4-mapped IPv6 networks are not accepted: write the IPv4 form/);
});

test('networks: bare addresses and CIDR of both families', () => {
  const config = valid('[server.proxy]\ntrusted-networks = ["192.0.2.10", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32"]\n');
  assert.deepEqual(config.server.proxy['trusted-networks'], ['192.0.2.10', '10.0.0.0/8', '2001:db8::1', '2001:db8::/32']);
});

test('TOML syntax errors show line and column', () => {
  const found = problems('[server]\nhostname = "a"\nshutdown-timeout = \n');
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^config\.toml:3:20 TOML syntax error: Expected .* but "\\n" found/);
});

test('plaintext passwords are refused with a hint', () => {
  const found = problems('[mail]\ndomains = ["example.test"]\n[mail.accounts."alice@example.test"]\npassword = "hunter2"\n');
  assert.deepEqual(found, [
    'config.toml:4 mail.accounts."alice@example.test".password: is not a password hash: plaintext passwords are refused; run `npx portico hash-password` and paste its output ("$scrypt$...")',
  ]);
});

test('unknown protocol and proxy mode list what is expected', () => {
  const found = problems('[server.listener.x]\nprotocol = "smtps"\nbind = ["127.0.0.1:1"]\nproxy.mode = "haproxy"\n');
  assert.deepEqual(found, [
    'config.toml:2 server.listener.x.protocol: expected one of "smtp", "submission", "imap", "pop3", "http", found "smtps"',
    'config.toml:4 server.listener.x.proxy.mode: expected one of "proxy-protocol", "x-forwarded-for", "none", found "haproxy"',
  ]);
});

test('a missing file is one clear problem', () => {
  const result = loadConfig('/nonexistent/portico.toml');
  assert.equal(result.ok, false);
  if (!result.ok) assert.deepEqual(result.problems.map(formatProblem), ['/nonexistent/portico.toml cannot read the config file: no such file']);
});

test('trust: the listener list replaces the global one, [] trusts nobody, mode defaults by protocol', () => {
  const config = valid(
    [
      '[server.proxy]',
      'trusted-networks = ["127.0.0.1"]',
      '[server.listener.a]',
      'protocol = "smtp"',
      'bind = ["127.0.0.1:2525"]',
      '[server.listener.b]',
      'protocol = "imap"',
      'bind = ["127.0.0.1:1143"]',
      'proxy.trusted-networks = ["10.0.0.0/8"]',
      'proxy.timeout = "3s"',
      '[server.listener.c]',
      'protocol = "pop3"',
      'bind = ["127.0.0.1:1110"]',
      'proxy.trusted-networks = []',
      '[server.listener.web]',
      'protocol = "http"',
      'bind = ["127.0.0.1:8080"]',
    ].join('\n'),
  );
  const l = config.server.listener;
  const a = effectiveProxy(config, l.a!);
  assert.deepEqual([a.mode, a.trustSource, a.trustedNetworks.toStrings(), a.timeoutMs], ['proxy-protocol', 'global', ['127.0.0.1'], 5000]);
  const b = effectiveProxy(config, l.b!);
  assert.deepEqual([b.mode, b.trustSource, b.trustedNetworks.toStrings(), b.timeoutMs], ['proxy-protocol', 'listener', ['10.0.0.0/8'], 3000]);
  const c = effectiveProxy(config, l.c!);
  assert.deepEqual([c.mode, c.trustSource, c.trustedNetworks.toStrings()], ['none', 'listener', []]);
  assert.equal(effectiveProxy(config, l.web!).mode, 'x-forwarded-for');
});

test('every TOML example in the README is a valid config', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, 'README has TOML examples');
  for (const block of blocks) valid(block);
});

test('proxy.forwarded-header: one header for http listeners, x-forwarded-for unless told', () => {
  const config = valid([
    '[server.listener.web]', 'protocol = "http"', 'bind = ["127.0.0.1:8080"]', 'proxy.trusted-networks = ["127.0.0.1"]',
    '[server.listener.rfc]', 'protocol = "http"', 'bind = ["127.0.0.1:8081"]', 'proxy.trusted-networks = ["127.0.0.1"]', 'proxy.forwarded-header = "forwarded"',
  ].join('\n'));
  assert.equal(effectiveProxy(config, config.server.listener.web!).forwardedHeader, 'x-forwarded-for');
  assert.equal(effectiveProxy(config, config.server.listener.rfc!).forwardedHeader, 'forwarded');
  assert.deepEqual(problems('[server.listener.smtp]\nprotocol = "smtp"\nbind = ["127.0.0.1:2525"]\nproxy.forwarded-header = "forwarded"\n'), [
    'config.toml:4 server.listener.smtp.proxy.forwarded-header: works only on http listeners (this one speaks smtp)',
  ]);
  assert.deepEqual(problems('[server.listener.web]\nprotocol = "http"\nbind = ["127.0.0.1:8080"]\nproxy.forwarded-header = "auto"\n'), [
    'config.toml:4 server.listener.web.proxy.forwarded-header: expected one of "x-forwarded-for", "forwarded", found "auto"',
  ]);
});
