import type { ConnectionInfo } from './connection.ts';

/**
 * Something a session saw that counts against a client. Sessions report these through a
 * SecurityEventSink; the auto-ban package consumes them. Events carry the ConnectionInfo so the
 * consumer decides whom to blame (the client, never a trusted proxy).
 */
export type SecurityEventKind = 'auth-failure' | 'scan' | 'loiter' | 'limit';
// 'limit': a session hit one of its limits (recipients, line length, size, command timeout). It is
// logged with the real client like every event, and never counted towards a ban: honest clients hit
// limits too.

export interface SecurityEvent {
  readonly kind: SecurityEventKind;
  /** Stable code of what happened, e.g. 'untrusted-proxy-header', 'unknown-command', 'scan-path'. */
  readonly reason: string;
  readonly connection: ConnectionInfo;
  readonly account?: string;
  readonly detail?: string;
}

export interface SecurityEventSink {
  report(event: SecurityEvent): void;
}

export const IGNORE_SECURITY_EVENTS: SecurityEventSink = Object.freeze({ report() {} });
