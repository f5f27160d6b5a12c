import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { NetworkList } from '@portico/core';
import type { Config } from '@portico/config';
import { effectiveProxy } from '@portico/config';
import { AutoBan, openRedisBanStore, openSqliteBanStore, sqliteBanStorePath } from '@portico/autoban';
import type { BanStore } from '@portico/autoban';
import { createRateLimits } from '@portico/ratelimit';
import type { RateLimits, RateLimitKind, RateLimitSpec } from '@portico/ratelimit';
import type { ListenerConfig } from '@portico/config';

/** Every network some listener trusts: proxies are never banned, whichever listener they serve. */
export function allTrustedNetworks(config: Config): NetworkList[] {
  return [
    NetworkList.parse(config.server.proxy['trusted-networks']),
    ...Object.values(config.server.listener).map((l) => effectiveProxy(config, l).trustedNetworks),
  ];
}

export function openRedis(config: Config): Redis | undefined {
  if (config.store.backend !== 'redis' || !config.store.url) return undefined;
  return new Redis(config.store.url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
}

/** The ban store of the config: SQLite in data-dir, or Redis. The CLI opens the same one. */
export function openBanStore(config: Config, dataDir: string, redis: Redis | undefined): BanStore {
  return redis ? openRedisBanStore(redis) : openSqliteBanStore(sqliteBanStorePath(dataDir));
}

export function createAutoBan(config: Config, store: BanStore, logger: Logger): AutoBan {
  const autoBan = config.server['auto-ban'];
  return new AutoBan({
    rates: {
      ...(autoBan.auth.rate ? { 'auth-failure': autoBan.auth.rate } : {}),
      ...(autoBan.scan.rate ? { scan: autoBan.scan.rate } : {}),
      ...(autoBan.loiter.rate ? { loiter: autoBan.loiter.rate } : {}),
    },
    durationMs: autoBan.duration,
    allowedIps: NetworkList.parse(autoBan['allowed-ips']),
    trustedNetworks: allTrustedNetworks(config),
    store,
    logger,
  });
}

type RateLimitConfig = Partial<Record<RateLimitKind, RateLimitSpec | undefined>>;

function definedLimits(limits: RateLimitConfig): Partial<Record<RateLimitKind, RateLimitSpec>> {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as Partial<Record<RateLimitKind, RateLimitSpec>>;
}

/** One limiter for the server's limits, and one per listener that sets its own `rate-limit`. */
export class RateLimitRegistry {
  readonly #shared: RateLimits;
  readonly #perListener = new Map<string, RateLimits>();

  constructor(config: Config, redis: Redis | undefined) {
    const exempt = NetworkList.parse(config.server['auto-ban']['allowed-ips']);
    const base = config.server['rate-limit'] as RateLimitConfig;
    this.#shared = createRateLimits({ limits: definedLimits(base), exempt, ...(redis ? { redis } : {}) });
    for (const [id, listener] of Object.entries(config.server.listener) as [string, ListenerConfig][]) {
      const own = listener['rate-limit'] as RateLimitConfig | undefined;
      if (!own) continue;
      this.#perListener.set(
        id,
        createRateLimits({ limits: definedLimits({ ...base, ...own }), exempt, keyPrefix: `portico:rl:${id}`, ...(redis ? { redis } : {}) }),
      );
    }
  }

  for(listenerId: string): RateLimits {
    return this.#perListener.get(listenerId) ?? this.#shared;
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared, ...this.#perListener.values()].map((l) => l.close()));
  }
}
