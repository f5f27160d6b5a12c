// Issue 7's load test: the real `portico serve` behind real HAProxy (send-proxy-v2, health checks),
// 200 concurrent abusive clients (127.0.1.x: failed AUTH after STARTTLS, or garbage commands) and 20
// well-behaved ones (127.0.2.x: full SMTP sessions delivering a message). Loopback only, bounded in
// connections and time. Reports that every well-behaved session succeeded and the server's CPU
// (user+system from /proc) per connection:
//   A. "abuse": auto-ban on (auth.rate/scan.rate 3/1h) vs the same run with auto-ban off; with bans
//      the abusers' later connections are refused before the greeting.
//   B. "overhead": the cost of having auto-ban on when nobody reaches a rate: rates configured but
//      unreachable and 1000 unrelated bans in the store, vs auto-ban off; garbage + well-behaved
//      traffic only (no scrypt, no TLS), several alternating rounds. Goal: < 5% extra.
//   C. The ban check alone, in process: AutoBan.admit on the real SQLite store holding the same bans,
//      as a share of B's CPU per connection (B's whole-process figures are only good to a few percent).
// Not part of `npm test`: `npx node bench/ban-load.bench.ts` or `npm run bench ban-load`.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startPortico, TEST_PASSWORD_HASH } from '../test/support/portico.ts';
import type { RunningPortico } from '../test/support/portico.ts';
import { startHaproxy } from '../test/support/haproxy.ts';
import type { RunningHaproxy } from '../test/support/haproxy.ts';
import { freePorts } from '../test/support/ports.ts';
import { makeTempDir } from '../test/support/temp.ts';
import { authPlain, SmtpClient } from '../test/support/mail-probes.ts';
import pino from 'pino';
import { AutoBan, openSqliteBanStore, sqliteBanStorePath } from '../packages/autoban/src/index.ts';
import { NetworkList } from '../packages/core/src/index.ts';
import type { ConnectionInfo } from '../packages/core/src/index.ts';

const ABUSERS = 200;
const GOOD = 20;
const ABUSE_ATTEMPTS = Number(process.env.BENCH_ABUSE_ATTEMPTS ?? 6);
/** Connections per garbage client in B: enough server CPU per run for a stable per-connection figure. */
const OVERHEAD_ATTEMPTS = Number(process.env.BENCH_OVERHEAD_ATTEMPTS ?? 15);
const GOOD_SESSIONS = Number(process.env.BENCH_GOOD_SESSIONS ?? 5);
const OVERHEAD_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Every AUTH_EVERY-th abuser fails AUTH (each costs a scrypt on the server); the rest send garbage. */
const AUTH_EVERY = 10;
/** Unrelated live bans stored before B's "on" runs (admission looks every client up among them). */
const SEEDED_BANS = Number(process.env.BENCH_SEEDED_BANS ?? 1000);
const RUN_TIMEOUT_MS = 120_000;
/** USER_HZ on Linux. */
const CLK_TCK = 100;

type Mode = 'bans' | 'off' | 'idle';

interface Outcome {
  goodOk: number;
  goodFailed: string[];
  abuseServed: number;
  abuseRefused: number;
  connections: number;
  cpuMs: number;
  wallMs: number;
}

/** utime + stime of `pid` (all its threads) in ms, from /proc/PID/stat (10 ms ticks; runs are sized to use >= 1 s). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "(comm) ": fields[0] is state (field 3 of proc(5)), so utime (14) and stime (15) are 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function config(ports: { smtp: number; sub: number }, mode: Mode): string {
  const autoBan =
    mode === 'bans'
      ? 'auth.rate = "3/1h"\nscan.rate = "3/1h"\nduration = "1h"\n'
      : mode === 'idle'
        ? 'auth.rate = "100000/1h"\nscan.rate = "100000/1h"\nloiter.rate = "100000/1h"\nduration = "1h"\n'
        : '';
  return `[server]
hostname = "mail.example.test"
data-dir = "data"
shutdown-timeout = "2s"
[server.proxy]
trusted-networks = ["127.0.0.1"]
[server.listener.smtp]
protocol = "smtp"
bind = ["127.0.0.1:${ports.smtp}"]
max-connections-per-ip = 1000
[server.listener.sub]
protocol = "submission"
bind = ["127.0.0.1:${ports.sub}"]
max-connections-per-ip = 1000
[server.auto-ban]
${autoBan}[mail]
domains = ["example.test"]
[mail.accounts."a@example.test"]
password = "${TEST_PASSWORD_HASH}"
[mail-auth]
spf.verify = "disable"
dkim.verify = "disable"
dmarc.verify = "disable"
`;
}

interface Stack {
  portico: RunningPortico;
  smtp: RunningHaproxy;
  sub: RunningHaproxy;
  stop(): Promise<void>;
}

async function startStack(mode: Mode): Promise<Stack> {
  const [smtpPort, subPort] = (await freePorts(2)) as [number, number];
  const dir = makeTempDir('ban-load').path;
  if (mode === 'idle' && SEEDED_BANS > 0) {
    // live bans of unrelated addresses: admission looks them up on every connection.
    mkdirSync(join(dir, 'data'), { recursive: true });
    const store = openSqliteBanStore(sqliteBanStorePath(join(dir, 'data')));
    const now = Date.now();
    for (let i = 0; i < SEEDED_BANS; i++) {
      await store.put({ address: `10.${(i >> 8) & 255}.${i & 255}.7`, reason: 'bench', createdAt: now, expiresAt: now + 3_600_000 });
    }
    await store.close();
  }
  const portico = await startPortico(config({ smtp: smtpPort, sub: subPort }, mode), { dir, logLevel: 'info' });
  const checks = 'send-proxy-v2 check check-send-proxy inter 200ms';
  const [smtp, sub] = await Promise.all([
    startHaproxy({ backend: { host: '127.0.0.1', port: smtpPort }, serverOptions: checks }),
    startHaproxy({ backend: { host: '127.0.0.1', port: subPort }, serverOptions: checks }),
  ]);
  return {
    portico,
    smtp,
    sub,
    async stop() {
      await Promise.all([smtp.stop(), sub.stop()]);
      await portico.stop();
    },
  };
}

/** One full SMTP session delivering a small message; throws with the step that failed. */
async function goodSession(port: number, from: string, n: number): Promise<void> {
  const c = await SmtpClient.connect({ port, localAddress: from });
  try {
    const expect = async (step: string, code: number, line?: string) => {
      const reply = line === undefined ? await c.reply() : await c.command(line);
      if (reply?.code !== code) throw new Error(`${from} session ${n}: ${step}: expected ${code}, got ${JSON.stringify(reply?.text ?? 'close')}`);
    };
    await expect('greeting', 220);
    await expect('EHLO', 250, 'EHLO good.example.test');
    await expect('MAIL', 250, `MAIL FROM:<sender${n}@good.example.test>`);
    await expect('RCPT', 250, 'RCPT TO:<a@example.test>');
    await expect('DATA', 354, 'DATA');
    await expect('end of data', 250, `From: <sender${n}@good.example.test>\r\nTo: <a@example.test>\r\nSubject: bench ${n}\r\n\r\nhello from ${from}\r\n.`);
    await expect('QUIT', 221, 'QUIT');
  } finally {
    c.destroy();
  }
}

/** One abusive connection: answers whether the server greeted it (false: refused before any greeting). */
async function abusiveConnection(port: number, from: string, auth: boolean): Promise<boolean> {
  const c = await SmtpClient.connect({ port, localAddress: from });
  try {
    const greeting = await c.reply();
    if (greeting?.code !== 220) {
      await c.closedByServer();
      return false;
    }
    if (auth) {
      await c.command('EHLO abuser.example.test');
      await c.startTls();
      await c.command('EHLO abuser.example.test');
      await c.command(`AUTH PLAIN ${authPlain('a@example.test', 'guess')}`);
      await c.command('QUIT');
    } else {
      // Ten unknown commands: the session's error limit closes it (and reports a scan event).
      c.write('XYZZY plugh\r\n'.repeat(10));
      await c.closedByServer();
    }
    return true;
  } finally {
    c.destroy();
  }
}

async function drive(stack: Stack, options: { withAuth: boolean; attempts: number }): Promise<Outcome> {
  const outcome: Outcome = { goodOk: 0, goodFailed: [], abuseServed: 0, abuseRefused: 0, connections: 0, cpuMs: 0, wallMs: 0 };
  const pid = stack.portico.process.child.pid!;
  const cpuBefore = cpuMsOf(pid);
  const started = Date.now();
  const abusers = Array.from({ length: ABUSERS }, async (_, i) => {
    const from = `127.0.1.${i + 1}`;
    const auth = options.withAuth && i % AUTH_EVERY === 0;
    for (let k = 0; k < options.attempts; k++) {
      outcome.connections++;
      try {
        if (await abusiveConnection(auth ? stack.sub.port : stack.smtp.port, from, auth)) outcome.abuseServed++;
        else outcome.abuseRefused++;
      } catch {
        outcome.abuseRefused++;
      }
    }
  });
  const good = Array.from({ length: GOOD }, async (_, i) => {
    const from = `127.0.2.${i + 1}`;
    for (let k = 0; k < GOOD_SESSIONS; k++) {
      outcome.connections++;
      try {
        await goodSession(stack.smtp.port, from, k);
        outcome.goodOk++;
      } catch (error) {
        outcome.goodFailed.push((error as Error).message);
      }
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ban-load: run did not finish within ${RUN_TIMEOUT_MS}ms`)), RUN_TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.all([...abusers, ...good]), timeout]);
  } finally {
    clearTimeout(timer);
  }
  outcome.wallMs = Date.now() - started;
  outcome.cpuMs = cpuMsOf(pid) - cpuBefore;
  return outcome;
}

/** A few sessions so that the JIT, TLS and scrypt's first use are not in the measurement. */
async function warmUp(stack: Stack): Promise<void> {
  for (let i = 0; i < 20; i++) await goodSession(stack.smtp.port, '127.0.3.1', i);
  await abusiveConnection(stack.smtp.port, '127.0.3.2', false);
}

async function oneRun(mode: Mode, withAuth: boolean, attempts: number): Promise<Outcome & { bans: number }> {
  const stack = await startStack(mode);
  try {
    await warmUp(stack);
    const outcome = await drive(stack, { withAuth, attempts });
    // Counted in the store (the log buffer of a long run keeps only its tail); minus B's 1000 seeded bans.
    const list = await stack.portico.cli(['bans', 'list']);
    const stored = list.stdout.split('\n').filter((l) => /^\d/.test(l) && !l.endsWith('\tbench')).length;
    const bans = stored;
    return { ...outcome, bans };
  } finally {
    await stack.stop();
  }
}

/** µs per AutoBan.admit (the check every connection pays), on a SQLite store with SEEDED_BANS bans. */
async function admitMicros(): Promise<number> {
  const dir = makeTempDir('ban-load-admit');
  const store = openSqliteBanStore(join(dir.path, 'bans.sqlite'));
  const now = Date.now();
  for (let i = 0; i < SEEDED_BANS; i++) {
    await store.put({ address: `10.${(i >> 8) & 255}.${i & 255}.7`, reason: 'bench', createdAt: now, expiresAt: now + 3_600_000 });
  }
  const autoBan = new AutoBan({
    rates: { 'auth-failure': { count: 3, perMs: 3_600_000 }, scan: { count: 3, perMs: 3_600_000 } },
    durationMs: 3_600_000,
    allowedIps: NetworkList.parse(['192.0.2.0/24']),
    trustedNetworks: [NetworkList.parse(['127.0.0.1']), NetworkList.parse(['127.0.0.1'])],
    store,
    logger: pino({ level: 'silent' }),
  });
  const infos = Array.from({ length: 220 }, (_, i): ConnectionInfo => ({
    id: `c${i}`,
    listener: 'smtp',
    client: { address: i < 200 ? `127.0.1.${i + 1}` : `127.0.2.${i - 199}`, port: 40000 + i },
    server: { address: '127.0.0.1', port: 25 },
    peer: { address: '127.0.0.1', port: 50000 + i },
    via: 'proxy-v2',
    peerIsTrustedProxy: true,
    tls: null,
    openedAt: now,
  }));
  for (const info of infos) await autoBan.admit(info); // warm-up and first load
  const calls = 200_000;
  const before = process.cpuUsage();
  const deadline = Date.now() + 1500; // crosses the 1 s refresh at least once
  let done = 0;
  while (done < calls || Date.now() < deadline) {
    for (let i = 0; i < 1000; i++) await autoBan.admit(infos[(done + i) % infos.length]!);
    done += 1000;
    if (done % 20_000 === 0) await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(before);
  await autoBan.close();
  await store.close();
  dir.remove();
  return (used.user + used.system) / done;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const perConn = (o: Outcome) => (o.cpuMs * 1000) / o.connections;

export async function run(): Promise<string[]> {
  const lines: string[] = [];
  const expectedGood = GOOD * GOOD_SESSIONS;
  const describe = (name: string, o: Outcome & { bans: number }) =>
    `| ${name.padEnd(34)} | ${String(o.connections).padStart(5)} | ${`${o.goodOk}/${expectedGood}`.padStart(7)} | ${String(o.abuseRefused).padStart(7)} | ${String(o.bans).padStart(4)} | ${o.cpuMs.toFixed(0).padStart(6)} | ${perConn(o).toFixed(0).padStart(7)} | ${(o.wallMs / 1000).toFixed(1).padStart(5)} |`;
  const header = [
    `| ${'run'.padEnd(34)} | ${'conns'.padStart(5)} | ${'good ok'.padStart(7)} | ${'refused'.padStart(7)} | ${'bans'.padStart(4)} | ${'cpu ms'.padStart(6)} | ${'µs/conn'.padStart(7)} | ${'wall s'.padStart(5)} |`,
    `|${'-'.repeat(36)}|${'-'.repeat(7)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(6)}|${'-'.repeat(8)}|${'-'.repeat(9)}|${'-'.repeat(7)}|`,
  ];
  const failures: string[] = [];

  // A. Abuse: 200 abusers (every 10th fails AUTH after STARTTLS, the rest send garbage), 20 good clients.
  lines.push(
    `A. ${ABUSERS} abusive clients x ${ABUSE_ATTEMPTS} connections (1 in ${AUTH_EVERY} failing AUTH after STARTTLS, the rest garbage) + ${GOOD} well-behaved x ${GOOD_SESSIONS} full sessions, all concurrent, behind HAProxy send-proxy-v2`,
    ...header,
  );
  const abuseOff = await oneRun('off', true, ABUSE_ATTEMPTS);
  lines.push(describe('auto-ban off', abuseOff));
  const abuseOn = await oneRun('bans', true, ABUSE_ATTEMPTS);
  lines.push(describe('auto-ban on (auth/scan 3/1h)', abuseOn));
  lines.push(`   CPU per connection, bans on / off: ${(perConn(abuseOn) / perConn(abuseOff)).toFixed(3)}`);
  for (const [name, o] of [['A off', abuseOff], ['A on', abuseOn]] as const) {
    if (o.goodOk !== expectedGood) failures.push(`${name}: ${o.goodOk}/${expectedGood} well-behaved sessions succeeded: ${o.goodFailed.slice(0, 3).join('; ')}`);
  }

  // B. Overhead with no ban reached: alternating rounds, garbage + good traffic only.
  lines.push(
    '',
    `B. Overhead of auto-ban when no client reaches a rate (rates 100000/1h, ${SEEDED_BANS} unrelated bans stored) vs off; ${ABUSERS} garbage clients x ${OVERHEAD_ATTEMPTS} + ${GOOD} x ${GOOD_SESSIONS} good sessions; ${OVERHEAD_ROUNDS} alternating rounds`,
    ...header,
  );
  const off: number[] = [];
  const idle: number[] = [];
  for (let round = 1; round <= OVERHEAD_ROUNDS; round++) {
    for (const mode of round % 2 ? (['off', 'idle'] as const) : (['idle', 'off'] as const)) {
      const o = await oneRun(mode, false, OVERHEAD_ATTEMPTS);
      lines.push(describe(`round ${round}: auto-ban ${mode === 'off' ? 'off' : 'on, idle'}`, o));
      (mode === 'off' ? off : idle).push(perConn(o));
      if (o.goodOk !== expectedGood) failures.push(`B ${mode} round ${round}: ${o.goodOk}/${expectedGood} well-behaved sessions succeeded: ${o.goodFailed.slice(0, 3).join('; ')}`);
      if (o.abuseRefused !== 0) failures.push(`B ${mode} round ${round}: ${o.abuseRefused} garbage connections refused though no rate can be reached`);
    }
  }
  const ratio = median(idle) / median(off);
  lines.push(
    `   median CPU per connection: off ${median(off).toFixed(0)} µs, on ${median(idle).toFixed(0)} µs; ratio ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}% extra; goal < 5%) ${ratio < 1.05 ? 'OK' : 'ABOVE GOAL'}`,
    '   (server CPU = utime+stime of the portico process, all threads, from /proc/PID/stat in 10 ms ticks; HAProxy health checks every 200 ms included in both)',
  );
  const micros = await admitMicros();
  lines.push(
    '',
    `C. The ban check alone: AutoBan.admit on a SQLite store with ${SEEDED_BANS} bans: ${micros.toFixed(2)} µs per connection = ${((micros / median(off)) * 100).toFixed(2)}% of B's ${median(off).toFixed(0)} µs server CPU per connection (off)`,
  );
  lines.push('', failures.length === 0 ? `every well-behaved session succeeded in every run (${expectedGood} per run)` : `FAILURES:\n${failures.join('\n')}`);
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of await run()) console.log(line);
}
