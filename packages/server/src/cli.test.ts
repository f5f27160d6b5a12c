import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '@portico/store';

const root = new URL('../../../', import.meta.url).pathname;
const cli = join(root, 'packages/server/bin/portico.js');

function portico(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, input: input ?? '', encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  const path = join(dir, 'portico.toml');
  writeFileSync(path, text);
  return path;
}

test('check-config on the root config.toml prints each listener and whom it trusts', () => {
  const { code, stdout, stderr } = portico(['check-config']);
  assert.equal(stderr, '');
  assert.equal(code, 0);
  assert.match(stdout, /^config\.toml: valid$/m);
  assert.match(stdout, /^smtp: smtp on 127\.0\.0\.1:2525; STARTTLS; proxy none; trusts nobody \(from server\.proxy\.trusted-networks\)$/m);
  assert.match(stdout, /^submissions: submission on 127\.0\.0\.1:5465; implicit TLS; proxy none; trusts nobody/m);
});

test('check-config says where the trusted list comes from', () => {
  const path = configFile(
    '[server.proxy]\ntrusted-networks = ["127.0.0.1"]\n' +
      '[server.listener.a]\nprotocol = "smtp"\nbind = ["127.0.0.1:2525"]\n' +
      '[server.listener.b]\nprotocol = "http"\nbind = ["[::1]:8080"]\nproxy.trusted-networks = ["::1", "10.0.0.0/8"]\n',
  );
  const { code, stdout } = portico(['check-config', '--config', path]);
  assert.equal(code, 0);
  assert.match(stdout, /^a: smtp on 127\.0\.0\.1:2525; STARTTLS; proxy proxy-protocol \(timeout 5000ms\); trusts 127\.0\.0\.1 \(from server\.proxy\.trusted-networks\)$/m);
  assert.match(stdout, /^b: http on \[::1\]:8080; plain; proxy x-forwarded-for \(reads the X-Forwarded-For header\); trusts ::1, 10\.0\.0\.0\/8 \(from server\.listener\.b\.proxy\.trusted-networks\)$/m);
});

test('check-config exits 1 with every problem, one line each', () => {
  const path = configFile('[server.listener.smtp]\nprotocol = "smtp"\nbind = ["127.0.0.1:2525"]\nproxy.trusted-networks = ["10.0.0.0/8", "10.0.0.0/33"]\nproxy.mode = "x-forwarded-for"\n');
  const { code, stdout, stderr } = portico(['check-config', '--config', path]);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.deepEqual(stderr.trim().split('\n'), [
    `${path}:4 server.listener.smtp.proxy.trusted-networks[1]: "10.0.0.0/33" is not an IP network (prefix must be 0-32 for IPv4)`,
    `${path}: 1 problem; the server would not start`,
  ]);
  const second = configFile('[server.listener.smtp]\nprotocol = "smtp"\nbind = ["127.0.0.1:2525"]\nproxy.mode = "x-forwarded-for"\n');
  const again = portico(['check-config', '--config', second]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /server\.listener\.smtp\.proxy\.mode: "x-forwarded-for" works only on http listeners/);
});

test('hash-password reads stdin and prints a scrypt hash the config accepts', async () => {
  const { code, stdout } = portico(['hash-password'], 'correct horse\n');
  assert.equal(code, 0);
  const hash = stdout.trim();
  assert.match(hash, /^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword(hash, 'correct horse'), true);
  assert.equal(await verifyPassword(hash, 'correct horse\n'), false);
  const path = configFile(`[mail]\ndomains = ["example.test"]\n[mail.accounts."alice@example.test"]\npassword = "${hash}"\n`);
  assert.equal(portico(['check-config', '--config', path]).code, 0);
});

test('hash-password refuses an empty password', () => {
  const { code, stderr } = portico(['hash-password'], '');
  assert.equal(code, 1);
  assert.match(stderr, /the password is empty/);
});

test('unknown commands and options print the usage and exit 2', () => {
  const unknown = portico(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badOption = portico(['check-config', '--confg', 'x']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /usage: portico/);
});

test('the logger masks a password or Authorization header that reaches a log line by mistake', async () => {
  const { createLogger } = await import('./logger.ts');
  const { PassThrough } = await import('node:stream');
  const sink = new PassThrough();
  const lines: string[] = [];
  sink.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  const logger = createLogger(sink);
  logger.info({ password: 'hunter2', req: { headers: { authorization: 'Basic eDp5' } } }, 'oops');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!) as { password: string; req: { headers: { authorization: string } } };
  assert.equal(line.password, '[Redacted]');
  assert.equal(line.req.headers.authorization, '[Redacted]');
  assert.ok(!lines[0]!.includes('hunter2') && !lines[0]!.includes('eDp5'));
});

test("the server's logger meets connectionLogger's and connectionLines' conditions: a connection's lines are those pino's child() writes", async () => {
  const { createLogger } = await import('./logger.ts');
  const { connectionLines, connectionLogger, connectionLogFields, freezeConnectionInfo } = await import('@portico/core');
  const { pino } = await import('pino');
  const lines: string[] = [];
  // The time is the one field that differs from line to line; the rest must match byte for byte.
  const sink = { write: (line: string) => void lines.push(line.replace(/"time":\d+/, '"time":0')) };
  const root = createLogger(sink);
  // Counts the lines pino formats itself: connectionLines must write its own for this logger.
  const internals = root as unknown as Record<symbol, (...args: unknown[]) => string>;
  const asJson = internals[pino.symbols.asJsonSym as unknown as symbol]!;
  let formattedByPino = 0;
  internals[pino.symbols.asJsonSym as unknown as symbol] = function (this: unknown, ...args: unknown[]) {
    formattedByPino++;
    return asJson.apply(this, args);
  };
  const parent = root.child({});
  const info = freezeConnectionInfo({
    id: 'c1', listener: 'smtp', client: { address: '192.0.2.7', port: 4000 }, server: { address: '127.0.0.1', port: 25 },
    peer: { address: '127.0.0.1', port: 5000 }, via: 'proxy-v1', tls: null, peerIsTrustedProxy: true, openedAt: 0,
  });
  for (const log of [parent.child(connectionLogFields(info)), connectionLogger(parent, info)]) {
    log.info({ durationMs: 1, bytesIn: 2, bytesOut: 3, reason: 'closed' }, 'connection closed');
  }
  connectionLines(parent).closed(connectionLogger(parent, info), 'info', { durationMs: 1, bytesIn: 2, bytesOut: 3, reason: 'closed' });
  assert.equal(lines.length, 3);
  assert.equal(lines[1], lines[0]);
  assert.equal(lines[2], lines[0]);
  assert.equal(formattedByPino, 2, 'connectionLines writes its line itself');
  assert.match(lines[0]!, /"app":"portico","conn":"c1","listener":"smtp","client":"192\.0\.2\.7:4000","peer":"127\.0\.0\.1:5000","via":"proxy-v1","tls":"none"/);
});
