import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { ALLOW, refuse } from '@portico/core';
import type { ConnectionInfo, NetworkList, Verdict } from '@portico/core';
import { ERR_RATELIMIT_CLOSED, ERR_RATELIMIT_INVALID_KEY_PREFIX, ERR_RATELIMIT_INVALID_SPEC, ERR_RATELIMIT_UNKNOWN_KIND } from './errors.ts';

/** The limits of `server.rate-limit` (and a listener's `rate-limit`), keyed as in the config. */
export const RATE_LIMIT_KINDS = ['connection', 'auth-failure', 'message', 'http-request'] as const;
export type RateLimitKind = (typeof RATE_LIMIT_KINDS)[number];

/** What core's parseRate answers: `count` events per `perMs` milliseconds. */
export interface RateLimitSpec {
  readonly count: number;
  readonly perMs: number;
}

export interface RateLimiterOptions {
  /** Absent kinds are not limited. */
  readonly limits: Partial<Record<RateLimitKind, RateLimitSpec>>;
  /**
   * Shared counters across processes (store.backend = "redis"). The caller owns the client: close()
   * does not quit it. When Redis is not ready or fails, counting falls back to this process's memory
   * (rate-limiter-flexible's insurance limiter) instead of failing or hanging.
   */
  readonly redis?: Redis;
  /** Prefix of every counter key (default "portico:rl"); give each server group its own. */
  readonly keyPrefix?: string;
  /** Addresses that are never limited (e.g. monitoring, the operator's own network). */
  readonly exempt?: NetworkList;
}

export interface RateLimits {
  /** Counts one event of `kind` for `key` (a client IP or an account); refuses once over the limit. */
  consume(kind: RateLimitKind, key: string): Promise<Verdict>;
  /** Like consume, keyed by the real client address; an unknown client (empty, PROXY LOCAL) is allowed. */
  check(info: ConnectionInfo, kind: RateLimitKind): Promise<Verdict>;
  /** Would the next consume be refused? Counts nothing (e.g. before checking a password). */
  peek(kind: RateLimitKind, key: string): Promise<Verdict>;
  /** Forgets the count of `key` (e.g. an operator's manual reset). */
  reset(kind: RateLimitKind, key: string): Promise<void>;
  /** The limits in force (after validation). */
  readonly limits: Readonly<Partial<Record<RateLimitKind, RateLimitSpec>>>;
  close(): Promise<void>;
}

const MESSAGES: Record<RateLimitKind, string> = {
  connection: 'too many connections from your address',
  'auth-failure': 'too many failed authentication attempts',
  message: 'too many messages',
  'http-request': 'too many requests',
};

const KEY_PREFIX = /^[\x21-\x7e]{1,64}$/;

/** Counters work in whole seconds (Redis EXPIRE); a sub-second window is rounded up to 1 s. */
function durationSeconds(perMs: number): number {
  return Math.max(1, Math.ceil(perMs / 1000));
}

function validate(kind: string, spec: RateLimitSpec | undefined): RateLimitSpec | undefined {
  if (spec === undefined) return undefined;
  if (!(RATE_LIMIT_KINDS as readonly string[]).includes(kind)) throw ERR_RATELIMIT_UNKNOWN_KIND(kind);
  if (!Number.isSafeInteger(spec.count) || spec.count < 1) throw ERR_RATELIMIT_INVALID_SPEC(kind, `count ${String(spec.count)} is not a whole number >= 1`);
  if (!Number.isFinite(spec.perMs) || spec.perMs < 1) throw ERR_RATELIMIT_INVALID_SPEC(kind, `window ${String(spec.perMs)}ms is not a duration >= 1ms`);
  return Object.freeze({ count: spec.count, perMs: spec.perMs });
}

function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

function refused(kind: RateLimitKind, res: RateLimiterRes): Verdict {
  const seconds = retryAfterSeconds(res);
  return refuse(`rate-limit:${kind}`, `${MESSAGES[kind]}; try again in ${seconds}s`, true, seconds);
}

/** An unknown client: no address, or a PROXY v2 LOCAL connection (a proxy's health check). */
export function clientIsUnknown(info: ConnectionInfo): boolean {
  const address = info.client.address;
  if (!address || info.via === 'proxy-v2-local') return true;
  return info.peerIsTrustedProxy && address === info.peer.address;
}

export function createRateLimits(options: RateLimiterOptions): RateLimits {
  const keyPrefix = options.keyPrefix ?? 'portico:rl';
  if (!KEY_PREFIX.test(keyPrefix)) throw ERR_RATELIMIT_INVALID_KEY_PREFIX(keyPrefix);
  const limits: Partial<Record<RateLimitKind, RateLimitSpec>> = {};
  for (const [kind, spec] of Object.entries(options.limits) as [RateLimitKind, RateLimitSpec | undefined][]) {
    const valid = validate(kind, spec);
    if (valid) limits[kind] = valid;
  }
  Object.freeze(limits);

  const limiters = new Map<RateLimitKind, RateLimiterAbstract>();
  for (const [kind, spec] of Object.entries(limits) as [RateLimitKind, RateLimitSpec][]) {
    const base = { points: spec.count, duration: durationSeconds(spec.perMs), keyPrefix: `${keyPrefix}:${kind}` };
    const memory = new RateLimiterMemory(base);
    limiters.set(
      kind,
      options.redis
        ? new RateLimiterRedis({ ...base, storeClient: options.redis, rejectIfRedisNotReady: true, insuranceLimiter: memory })
        : memory,
    );
  }

  const exempt = options.exempt;
  let closed = false;

  function limiterFor(kind: RateLimitKind): RateLimiterAbstract | undefined {
    if (closed) throw ERR_RATELIMIT_CLOSED();
    if (!(RATE_LIMIT_KINDS as readonly string[]).includes(kind)) throw ERR_RATELIMIT_UNKNOWN_KIND(kind);
    return limiters.get(kind);
  }

  function limited(key: string): boolean {
    return key !== '' && !(exempt?.has(key) ?? false);
  }

  async function consume(kind: RateLimitKind, key: string): Promise<Verdict> {
    const limiter = limiterFor(kind);
    if (!limiter || !limited(key)) return ALLOW;
    try {
      await limiter.consume(key, 1);
      return ALLOW;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return refused(kind, rejection);
      // Both the store and the insurance limiter failed: a limiter must not take the service down.
      return ALLOW;
    }
  }

  return {
    limits,
    consume,
    async check(info, kind) {
      if (clientIsUnknown(info)) {
        limiterFor(kind);
        return ALLOW;
      }
      return consume(kind, info.client.address);
    },
    async peek(kind, key) {
      const limiter = limiterFor(kind);
      if (!limiter || !limited(key)) return ALLOW;
      let res: RateLimiterRes | null;
      try {
        res = await limiter.get(key);
      } catch {
        return ALLOW;
      }
      if (res && res.consumedPoints >= limiter.points && res.msBeforeNext > 0) return refused(kind, res);
      return ALLOW;
    },
    async reset(kind, key) {
      const limiter = limiterFor(kind);
      if (!limiter || key === '') return;
      try {
        await limiter.delete(key);
      } catch {
        // Nothing counted or the store is down: either way there is nothing left to reset here.
      }
    },
    async close() {
      closed = true;
      limiters.clear();
    },
  };
}
