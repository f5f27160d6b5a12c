// `portico serve` as users run it: one JSON line per listener, a clean stop on SIGTERM that lets an
// open session finish, and one clear line (exit 1) when it cannot start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, listenerSection } from './support/portico.ts';
import type { RunningPortico } from './support/portico.ts';
import { freePorts } from './support/ports.ts';
import { makeTempDir } from './support/temp.ts';

const cli = new URL('../packages/server/bin/portico.js', import.meta.url).pathname;
const started: RunningPortico[] = [];
after(async () => {
  for (const p of started) await p.stop();
});

function configFor(ports: number[], extra = ''): string {
  return `[server]
hostname = "mail.example.test"
data-dir = "data"
shutdown-timeout = "5s"
${listenerSection('smtp', 'smtp', ports[0]!)}
${listenerSection('web', 'http', ports[1]!)}
[mail]
domains = ["example.test"]
${extra}`;
}

function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\r\n');
      if (end !== -1) {
        socket.off('data', onData);
        resolve(text.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

test('serve logs one line per listener and stops with exit 0 on SIGTERM, letting an open session finish', async () => {
  const ports = await freePorts(2);
  // Lines batched as users get them: the last ones are written at exit.
  const portico = await startPortico(configFor(ports), { batchedLogs: true });
  started.push(portico);
  const listening = portico.logs().filter((l) => String(l.msg).startsWith('listening on'));
  assert.deepEqual(
    listening.map((l) => [l.listener, l.protocol, l.address]),
    [
      ['smtp', 'smtp', `127.0.0.1:${ports[0]}`],
      ['web', 'http', `127.0.0.1:${ports[1]}`],
    ],
  );
  const socket = connect({ port: ports[0]!, host: '127.0.0.1' });
  assert.match(await readLine(socket), /^220 mail\.example\.test ESMTP/);
  portico.process.child.kill('SIGTERM');
  await portico.waitForLog((l) => l.msg === 'stopped accepting; waiting for open sessions');
  const refused = await new Promise<string>((resolve) => {
    const late = connect({ port: ports[0]!, host: '127.0.0.1' });
    late.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    late.on('connect', () => resolve('connected'));
  });
  assert.equal(refused, 'ECONNREFUSED');
  socket.write('QUIT\r\n');
  assert.match(await readLine(socket), /^221 /);
  const { code } = await portico.process.exited;
  assert.equal(code, 0);
  assert.ok(portico.logs().some((l) => l.msg === 'portico stopped' && l.forced === 0));
});

test('sessions still open at shutdown-timeout are closed, and the exit code is still 0', async () => {
  const ports = await freePorts(2);
  const portico = await startPortico(configFor(ports).replace('shutdown-timeout = "5s"', 'shutdown-timeout = "300ms"'), { batchedLogs: true });
  started.push(portico);
  const socket = connect({ port: ports[0]!, host: '127.0.0.1' });
  await readLine(socket);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  portico.process.child.kill('SIGINT');
  await closed;
  assert.equal((await portico.process.exited).code, 0);
  assert.ok(portico.logs().some((l) => l.msg === 'portico stopped' && l.forced === 1));
});

test('a port already in use is one clear error line and exit 1, and no listener stays up', async () => {
  const ports = await freePorts(2);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(ports[1], '127.0.0.1', resolve));
  try {
    const dir = makeTempDir('portico-serve-').path;
    writeFileSync(join(dir, 'portico.toml'), configFor(ports));
    const result = spawnSync(process.execPath, [cli, 'serve', '--config', join(dir, 'portico.toml')], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `portico: not starting: listener "web": 127.0.0.1:${ports[1]} is already in use by another program\n`);
    const smtpFree = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(ports[0], '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    assert.ok(smtpFree, 'the listener started before the failure was closed again');
  } finally {
    blocker.close();
  }
});

test('a missing certificate file is one clear error line and exit 1', () => {
  const dir = makeTempDir('portico-serve-').path;
  writeFileSync(join(dir, 'portico.toml'), configFor([1, 2], '[server.tls]\ncertificate = "certs/missing.pem"\nprivate-key = "certs/missing.key"\n').replace('[mail]', '[mail]'));
  const result = spawnSync(process.execPath, [cli, 'serve', '--config', join(dir, 'portico.toml')], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 1);
  assert.equal(result.stderr, `portico: not starting: server.tls.certificate: cannot read ${join(dir, 'certs/missing.pem')}: no such file\n`);
});

test('a logging variable that is not valid is one clear error line and exit 1', () => {
  const dir = makeTempDir('portico-serve-').path;
  writeFileSync(join(dir, 'portico.toml'), configFor([1, 2]));
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [cli, 'serve', '--config', join(dir, 'portico.toml')], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  const flush = run({ PORTICO_LOG_FLUSH_MS: 'soon' });
  assert.equal(flush.status, 1);
  assert.equal(flush.stderr, 'portico: not starting: PORTICO_LOG_FLUSH_MS: expected a whole number of milliseconds (0 writes every line at once), got "soon"\n');
  const level = run({ PORTICO_LOG_LEVEL: 'loud' });
  assert.equal(level.status, 1);
  assert.equal(level.stderr, 'portico: not starting: PORTICO_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"\n');
});

test('an invalid config never starts half a server: every problem, exit 1', () => {
  const dir = makeTempDir('portico-serve-').path;
  writeFileSync(join(dir, 'portico.toml'), '[server.listener.smtp]\nprotocol = "smtp"\nbind = ["127.0.0.1:99999"]\nproxy.mode = "x-forwarded-for"\n');
  const result = spawnSync(process.execPath, [cli, 'serve', '--config', join(dir, 'portico.toml')], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /portico\.toml:3 server\.listener\.smtp\.bind\[0\]: "127\.0\.0\.1:99999" is not "address:port"/);
  assert.match(lines[1]!, /^portico: not starting: 1 problem in /);
});
