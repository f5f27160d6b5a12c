import { tracingChannel } from 'node:diagnostics_channel';
import pino from 'pino';
import type { Logger } from 'pino';
import { escapedForJson } from './connection-logger.ts';
import type { Internals } from './connection-logger.ts';

/** What the 'connection closed' line reports; read only when the line is written. */
export interface ConnectionClosing {
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly reason: string;
}

/** The two lines every connection logs, written through the connection's logger at `level`. */
export interface ConnectionLines {
  open(log: Logger, level: 'info' | 'debug'): void;
  closed(log: Logger, level: 'info' | 'debug', closing: ConnectionClosing): void;
}

const OPEN = 'connection open';
const CLOSED = 'connection closed';
/** The keys these lines write: a serializer or redaction for one of them sends the lines through pino. */
const KEYS = ['durationMs', 'bytesIn', 'bytesOut', 'reason', 'msg'];

/** The lines as pino writes them from `log.info(fields, message)`. */
const THROUGH_PINO: ConnectionLines = {
  open(log, level) {
    if (log.isLevelEnabled(level)) log[level](OPEN);
  },
  closed(log, level, closing) {
    if (!log.isLevelEnabled(level)) return;
    // Copied: `closing` may be an object with more to it than these four (the listener passes its setup).
    const { durationMs, bytesIn, bytesOut, reason } = closing;
    log[level]({ durationMs, bytesIn, bytesOut, reason }, CLOSED);
  },
};

const {
  lsCacheSym, timeSym, chindingsSym, streamSym, endSym, hooksSym, formattersSym, serializersSym, stringifiersSym,
  mixinSym, messageKeySym, nestedKeySym, needsMetadataGsym, wildcardFirstSym,
} = pino.symbols;
/** pino has it (a child's msgPrefix) but its types do not list it. */
const msgPrefixSym = (pino.symbols as unknown as Record<string, symbol>).msgPrefixSym!;
/** pino's default time field, which the lines' own `epochTimeText` writes too. */
const { epochTime } = pino.stdTimeFunctions;

let lastSecond = -1;
let secondText = '';
let lastTimeMs = -1;
let lastTimeText = '';
/** '000' to '999': the milliseconds of a time, as they follow its seconds. */
const MILLISECONDS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));
/**
 * What pino's epochTime writes, made once a millisecond from its seconds, made once a second: a
 * time in ms is too large for V8's small integers, and turning it into digits goes through the
 * double-to-text conversion (FastDtoa), which cost more than the rest of the field.
 */
function epochTimeText(): string {
  const now = Date.now();
  if (now !== lastTimeMs) {
    lastTimeMs = now;
    const second = Math.floor(now / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      secondText = `,"time":${second}`;
    }
    lastTimeText = second > 0 ? secondText + MILLISECONDS[now - second * 1000]! : `,"time":${now}`;
  }
  return lastTimeText;
}

/** pino's own tracing of the lines it formats: whoever subscribes gets every line through pino. */
const pinoFormatting = tracingChannel('pino_asJson');

/**
 * True when pino would write these lines as plain JSON: no mixin, hooks, log formatter, message
 * prefix or nested key, no stream that wants each line's metadata (multistream), and no serializer,
 * redaction or wildcard stringifier that touches the lines' keys.
 */
function writesPlainJson(parent: Logger): boolean {
  const p = parent as unknown as Internals;
  const hooks = p[hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const formatters = p[formattersSym] as { log?: unknown } | undefined;
  const serializers = (p[serializersSym] ?? {}) as Record<string, unknown>;
  const stringifiers = (p[stringifiersSym] ?? {}) as Record<string | symbol, unknown>;
  const destination = p[streamSym] as Internals | undefined;
  return (
    !p[mixinSym] &&
    !hooks?.logMethod &&
    !hooks?.streamWrite &&
    !formatters?.log &&
    p[messageKeySym] === 'msg' &&
    typeof p[msgPrefixSym] !== 'string' &&
    !p[nestedKeySym] &&
    destination?.[needsMetadataGsym] !== true &&
    stringifiers[wildcardFirstSym] === undefined &&
    KEYS.every((key) => serializers[key] === undefined && stringifiers[key] === undefined)
  );
}

/**
 * The connection lines for loggers made from `parent` (by connectionLogger): byte for byte what pino
 * writes, built as one string and handed to pino's destination. pino's general path (a for-in over
 * the fields, a serializer and a stringifier looked up for each, the message formatted) took about
 * 1 µs of the 2 µs the two lines cost each connection (see "Cost per connection" in the listener's
 * README). Where the parent is set up so that pino would write anything else, or a subscriber is
 * tracing pino's formatting, the lines go through pino. connection-lines.test.ts holds both ways to
 * the same bytes.
 */
export function connectionLines(parent: Logger): ConnectionLines {
  if (!writesPlainJson(parent)) return THROUGH_PINO;
  const levels = parent.levels.values;
  // Each line is its level and time, the connection's bindings, its own fields, then these tails,
  // which are the same for every connection (every piece added to a string costs an object).
  const lineEnd = (parent as unknown as Internals)[endSym] as string;
  const openTail = `,"msg":"${OPEN}"${lineEnd}`;
  const closedTail = `","msg":"${CLOSED}"${lineEnd}`;
  const write = (log: Logger, level: 'info' | 'debug', rest: string) => {
    const l = log as unknown as Internals;
    const time = l[timeSym] as () => string;
    const line = (l[lsCacheSym] as string[])[levels[level]!]! + (time === epochTime ? epochTimeText() : time()) + (l[chindingsSym] as string) + rest;
    (l[streamSym] as pino.DestinationStream).write(line);
  };
  return {
    open(log, level) {
      if (!log.isLevelEnabled(level)) return;
      if (pinoFormatting.hasSubscribers) THROUGH_PINO.open(log, level);
      else write(log, level, openTail);
    },
    closed(log, level, closing) {
      if (!log.isLevelEnabled(level)) return;
      if (pinoFormatting.hasSubscribers) {
        THROUGH_PINO.closed(log, level, closing);
        return;
      }
      const { durationMs, bytesIn, bytesOut, reason } = closing;
      write(log, level, `,"durationMs":${json(durationMs)},"bytesIn":${json(bytesIn)},"bytesOut":${json(bytesOut)},"reason":"${escapedForJson(reason)}${closedTail}`);
    },
  };
}

/**
 * A number as pino writes one (not finite: null). Durations are differences of two times in ms,
 * which V8 keeps as doubles: written as small integers where they are, they skip the
 * double-to-text conversion.
 */
function json(value: number): string {
  if ((value | 0) === value) return String(value | 0);
  return Number.isFinite(value) ? String(value) : 'null';
}
