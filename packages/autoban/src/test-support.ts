// Test helpers (not exported from the package).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { freezeConnectionInfo } from '@portico/core';
import type { ConnectionInfo, SecurityEvent, SecurityEventKind } from '@portico/core';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger writing JSON lines into `lines` (synchronously). */
export function captureLogger(): { logger: Logger; lines: LogLine[]; messages: (level?: number) => string[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return { logger, lines, messages: (level) => lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg) };
}

export const WARN = 40;

export function connection(client: string, overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return freezeConnectionInfo({
    id: 'c1',
    listener: 'smtp',
    client: { address: client, port: 40000 },
    server: { address: '192.0.2.250', port: 25 },
    peer: { address: client, port: 40000 },
    via: 'direct',
    tls: null,
    peerIsTrustedProxy: false,
    openedAt: 0,
    ...overrides,
  });
}

/** A connection that came through a trusted proxy at `proxy`. */
export function viaProxy(client: string, proxy = '10.0.0.1'): ConnectionInfo {
  return connection(client, { peer: { address: proxy, port: 51000 }, via: 'proxy-v2', peerIsTrustedProxy: true });
}

export function event(kind: SecurityEventKind, info: ConnectionInfo, reason = 'bad-password'): SecurityEvent {
  return { kind, reason, connection: info };
}

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
