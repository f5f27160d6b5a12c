import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { pino } from 'pino';
import type { LoggerOptions } from 'pino';
import { connectionLines } from './connection-lines.ts';
import type { ConnectionClosing } from './connection-lines.ts';
import { connectionLogger } from './connection-logger.ts';
import { testParentLogger } from './test-support.ts';
import { freezeConnectionInfo } from './connection.ts';

const connection = freezeConnectionInfo({
  id: 'a1b2c3-1f', listener: 'submission', client: { address: '192.0.2.7', port: 40000 }, server: { address: '127.0.0.1', port: 587 },
  peer: { address: '127.0.0.1', port: 5000 }, via: 'proxy-v1', tls: null, peerIsTrustedProxy: true, openedAt: 0,
});

const closing: ConnectionClosing = { durationMs: 3, bytesIn: 28, bytesOut: 7, reason: 'client said QUIT' };

/** The open and close lines of one connection, written by connectionLines and by pino's info(), and how many pino formatted. */
function bothWays(options: LoggerOptions = {}, ending: ConnectionClosing = closing, level: 'info' | 'debug' = 'info') {
  const ours = testParentLogger(options);
  const lines = connectionLines(ours.parent);
  const log = connectionLogger(ours.parent, connection);
  lines.open(log, level);
  lines.closed(log, level, ending);
  const pinos = testParentLogger(options);
  const pinoLog = connectionLogger(pinos.parent, connection);
  pinoLog[level]('connection open');
  pinoLog[level]({ ...ending }, 'connection closed');
  return { ours: ours.lines, pinos: pinos.lines, formattedByPino: ours.formattedByPino() };
}

test("the open and close lines are pino's bytes, built without pino's formatting", () => {
  const { ours, pinos, formattedByPino } = bothWays();
  assert.equal(ours.length, 2);
  assert.deepEqual(ours, pinos);
  assert.equal(formattedByPino, 0);
  assert.deepEqual(JSON.parse(ours[1]!), {
    level: 30, time: 0, app: 'portico', conn: 'a1b2c3-1f', listener: 'submission', client: '192.0.2.7:40000',
    peer: '127.0.0.1:5000', via: 'proxy-v1', tls: 'none', durationMs: 3, bytesIn: 28, bytesOut: 7, reason: 'client said QUIT',
    msg: 'connection closed',
  });
});

test("with pino's default time (epoch milliseconds), each line has the time it was written, as pino's", (t) => {
  t.after(() => mock.timers.reset());
  mock.timers.enable({ apis: ['Date'], now: 1_765_000_000_000 });
  const timeOf = (line: string) => JSON.parse(line).time as number;
  const ours = testParentLogger({ timestamp: pino.stdTimeFunctions.epochTime });
  const pinos = testParentLogger({ timestamp: pino.stdTimeFunctions.epochTime });
  const lines = connectionLines(ours.parent);
  const log = connectionLogger(ours.parent, connection);
  const pinoLog = connectionLogger(pinos.parent, connection);
  // Two lines in one millisecond, then one in the next, one much later, then milliseconds that
  // begin with zeros, and the next second.
  for (const step of [0, 0, 1, 86_400_000, 4, 996]) {
    mock.timers.tick(step);
    lines.open(log, 'info');
    pinoLog.info('connection open');
  }
  assert.deepEqual(ours.lines, pinos.lines);
  assert.equal(ours.formattedByPino(), 0);
  assert.deepEqual(ours.lines.map(timeOf), [
    1_765_000_000_000, 1_765_000_000_000, 1_765_000_000_001, 1_765_086_400_001, 1_765_086_400_005, 1_765_086_401_001,
  ]);
  assert.match(ours.lines[4]!, /,"time":1765086400005,/);
});

test('durations beyond the small integers, fractions and negative numbers come out as pino writes them', () => {
  for (const durationMs of [2 ** 31 + 5, 2 ** 53 + 2, 1.5, -3, -0, 0]) {
    const { ours, pinos } = bothWays({}, { durationMs, bytesIn: 2 ** 32, bytesOut: 7, reason: 'closed' }, 'info');
    assert.deepEqual(ours, pinos, `durationMs ${durationMs}`);
  }
});

test('a reason that needs escaping, a number that is not finite, and debug level come out as pino writes them', () => {
  const odd = { durationMs: Number.NaN, bytesIn: 0, bytesOut: Number.POSITIVE_INFINITY, reason: 'said "bye"\\\n\u0001é' };
  const { ours, pinos, formattedByPino } = bothWays({ level: 'debug' }, odd, 'debug');
  assert.deepEqual(ours, pinos);
  assert.equal(formattedByPino, 0);
  assert.equal(JSON.parse(ours[1]!).reason, 'said "bye"\\\n\u0001é');
  assert.equal(JSON.parse(ours[1]!).durationMs, null);
  assert.equal(JSON.parse(ours[0]!).level, 20);
});

test('below the logger level nothing is written', () => {
  const { ours, pinos } = bothWays({ level: 'warn' });
  assert.deepEqual(ours, []);
  assert.deepEqual(pinos, []);
});

test("a connection logger's own level, and a parent's level comparison, decide as pino's own methods do", () => {
  for (const [name, options, own] of [
    ['the connection at debug under an info parent', {}, 'debug'],
    ['the connection at warn under an info parent', {}, 'warn'],
    ['levels compared in descending order', { customLevels: { loud: 10, quiet: 90 }, levelComparison: 'DESC', level: 'info' }, undefined],
  ] as const) {
    for (const level of ['info', 'debug'] as const) {
      const ours = testParentLogger(options);
      const log = connectionLogger(ours.parent, connection);
      if (own) log.level = own;
      connectionLines(ours.parent).open(log, level);
      const pinos = testParentLogger(options);
      const pinoLog = connectionLogger(pinos.parent, connection);
      if (own) pinoLog.level = own;
      pinoLog[level]('connection open');
      assert.deepEqual(ours.lines, pinos.lines, `${name}, ${level}`);
      assert.equal(ours.formattedByPino(), 0, `${name}, ${level}`);
    }
  }
});

test('where pino would write something else, the lines go through pino', () => {
  const cases: [string, LoggerOptions, (line: Record<string, unknown>) => void][] = [
    ['a mixin', { mixin: () => ({ node: 'mx1' }) }, (line) => assert.equal(line.node, 'mx1')],
    ['redaction of a key the lines write', { redact: ['reason'] }, (line) => assert.ok(line.reason === undefined || line.reason === '[Redacted]')],
    ['a serializer of a key the lines write', { serializers: { bytesIn: (n: number) => `${n} B` } }, (line) => assert.ok(line.bytesIn === undefined || line.bytesIn === '28 B')],
    ['another message key', { messageKey: 'message' }, (line) => assert.equal(typeof line.message, 'string')],
    ['a log formatter', { formatters: { log: (o: Record<string, unknown>) => ({ ...o, formatted: true }) } }, (line) => assert.equal(line.formatted, true)],
    ['a streamWrite hook', { hooks: { streamWrite: (s: string) => s.replace('"app"', '"application"') } }, (line) => assert.equal(line.application, 'portico')],
  ];
  for (const [name, options, check] of cases) {
    const { ours, pinos, formattedByPino } = bothWays(options);
    assert.deepEqual(ours, pinos, name);
    assert.equal(formattedByPino, 2, name);
    for (const line of ours) check(JSON.parse(line));
  }
});

test('a parent with a message prefix (child option msgPrefix) gets its lines through pino, prefixed', () => {
  const { parent, lines, formattedByPino } = testParentLogger();
  const prefixed = parent.child({}, { msgPrefix: '[edge] ' });
  const log = connectionLogger(prefixed, connection);
  const written = connectionLines(prefixed);
  written.open(log, 'info');
  written.closed(log, 'info', closing);
  assert.deepEqual(lines.map((line) => JSON.parse(line).msg), ['[edge] connection open', '[edge] connection closed']);
  assert.equal(formattedByPino(), 2);
});

test("whoever traces pino's formatting (diagnostics_channel) sees these lines too", () => {
  const seen: unknown[] = [];
  const subscriber = { start: (message: unknown) => void seen.push(message), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  const channel = tracingChannel('pino_asJson');
  channel.subscribe(subscriber);
  try {
    const { ours, pinos, formattedByPino } = bothWays();
    assert.deepEqual(ours, pinos);
    assert.equal(formattedByPino, 2);
    assert.equal(seen.length, 4, 'two lines each way');
  } finally {
    channel.unsubscribe(subscriber);
  }
});

test("a subscriber to any one channel pino's tracing publishes on (start, end, error) gets the lines through pino", () => {
  const channel = tracingChannel('pino_asJson');
  for (const name of ['start', 'end', 'error'] as const) {
    const seen: unknown[] = [];
    const listen = (message: unknown) => void seen.push(message);
    channel[name].subscribe(listen);
    try {
      const { ours, pinos, formattedByPino } = bothWays();
      assert.deepEqual(ours, pinos, name);
      assert.equal(formattedByPino, 2, name);
      if (name !== 'error') assert.equal(seen.length, 4, `${name}: two lines each way`);
    } finally {
      channel[name].unsubscribe(listen);
    }
  }
  assert.equal(bothWays().formattedByPino, 0, 'with nobody listening, the lines are built without pino again');
});

test('a closing that is more than its four fields (getters, other properties) writes those four only, both ways', () => {
  // As the listener passes it: its setup, whose getters give the figures and whose fields are its own business.
  class Setup {
    readonly socket = { secret: 'not for the log' };
    reason = 'client said QUIT';
    get durationMs() {
      return 5;
    }
    get bytesIn() {
      return 28;
    }
    get bytesOut() {
      return 7;
    }
  }
  for (const options of [{}, { mixin: () => ({ mixed: 1 }) }]) {
    const ours = testParentLogger(options);
    connectionLines(ours.parent).closed(connectionLogger(ours.parent, connection), 'info', new Setup());
    const line = JSON.parse(ours.lines[0]!);
    assert.deepEqual([line.durationMs, line.bytesIn, line.bytesOut, line.reason, line.socket], [5, 28, 7, 'client said QUIT', undefined]);
    assert.equal(ours.formattedByPino(), Object.keys(options).length, 'the mixin sends the line through pino');
  }
});
