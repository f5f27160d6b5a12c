export { createRateLimits, clientIsUnknown, RATE_LIMIT_KINDS } from './rate-limits.ts';
export type { RateLimits, RateLimiterOptions, RateLimitSpec, RateLimitKind } from './rate-limits.ts';
export { ERR_RATELIMIT_CLOSED, ERR_RATELIMIT_INVALID_KEY_PREFIX, ERR_RATELIMIT_INVALID_SPEC, ERR_RATELIMIT_UNKNOWN_KIND } from './errors.ts';
