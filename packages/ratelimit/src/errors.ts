import { defineError } from '@portico/core';

/** The rate-limit catalogue (documented in ../README.md). */

export const ERR_RATELIMIT_INVALID_SPEC = defineError(
  'PORTICO_ERR_RATELIMIT_INVALID_SPEC',
  (kind: string, detail: string) =>
    `server.rate-limit.${kind}: ${detail}; expected a rate "N/duration" such as "120/1m" (count >= 1, duration >= 1ms)`,
);

export const ERR_RATELIMIT_UNKNOWN_KIND = defineError(
  'PORTICO_ERR_RATELIMIT_UNKNOWN_KIND',
  (kind: string) => `unknown rate-limit kind ${JSON.stringify(kind)}; expected "connection", "auth-failure", "message" or "http-request"`,
);

export const ERR_RATELIMIT_CLOSED = defineError(
  'PORTICO_ERR_RATELIMIT_CLOSED',
  () => 'the rate limiter was closed; create a new one with createRateLimits()',
);

export const ERR_RATELIMIT_INVALID_KEY_PREFIX = defineError(
  'PORTICO_ERR_RATELIMIT_INVALID_KEY_PREFIX',
  (prefix: string) => `rate-limit key prefix ${JSON.stringify(prefix)} is not usable: it must be 1-64 printable characters without spaces`,
);
