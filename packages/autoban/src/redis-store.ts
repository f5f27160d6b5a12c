import type { Redis } from 'ioredis';
import { ERR_AUTOBAN_STORE_CLOSED } from './errors.ts';
import { storeOperation, toBan } from './ban-store.ts';
import type { Ban, BanStore } from './ban-store.ts';

export interface RedisBanStoreOptions {
  /** Prefix of every key (default "portico:"): bans are `<prefix>ban:<address>`. */
  readonly keyPrefix?: string;
  /** Quit the client on close() (default false: the caller owns it). */
  readonly quitOnClose?: boolean;
  readonly now?: () => number;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The shared store (store.backend = "redis"): one key per ban holding JSON, with a PX expiry so that
 * Redis forgets it when it ends; a revision counter changes on every put/remove so other processes
 * notice within a second without listing. list() walks the keys with SCAN (never KEYS).
 */
export function openRedisBanStore(redis: Redis, options: RedisBanStoreOptions = {}): BanStore {
  const prefix = options.keyPrefix ?? 'portico:';
  const now = options.now ?? Date.now;
  const banPrefix = `${prefix}ban:`;
  const revisionKey = `${prefix}bans:revision`;
  const where = `redis ${prefix}`;
  let closed = false;

  function op<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(ERR_AUTOBAN_STORE_CLOSED(where));
    return storeOperation(where, operation, run);
  }

  const parse = (text: string | null): Ban | undefined => {
    if (text === null) return undefined;
    let ban: Ban | undefined;
    try {
      ban = toBan(JSON.parse(text));
    } catch {
      return undefined;
    }
    return ban && ban.expiresAt > now() ? ban : undefined;
  };

  async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
    const results = (await multi.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }

  return {
    description: where,
    get: (address) => op('read a ban', async () => parse(await redis.get(banPrefix + address))),
    put: (ban) =>
      op('store a ban', async () => {
        const ttl = Math.ceil(ban.expiresAt - now());
        const multi = redis.multi();
        if (ttl > 0) {
          const value = JSON.stringify({ address: ban.address, reason: ban.reason, createdAt: ban.createdAt, expiresAt: ban.expiresAt });
          multi.set(banPrefix + ban.address, value, 'PX', ttl);
        } else {
          multi.del(banPrefix + ban.address);
        }
        await execOrThrow(multi.incr(revisionKey));
      }),
    remove: (address) =>
      op('remove a ban', async () => {
        const [value] = await execOrThrow(redis.multi().getdel(banPrefix + address).incr(revisionKey));
        return parse((value as string | null) ?? null) !== undefined;
      }),
    list: () =>
      op('list bans', async () => {
        const bans: Ban[] = [];
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${globEscape(banPrefix)}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) {
            for (const text of await redis.mget(...keys)) {
              const ban = parse(text);
              if (ban) bans.push(ban);
            }
          }
        } while (cursor !== '0');
        return bans.sort((a, b) => a.expiresAt - b.expiresAt || a.address.localeCompare(b.address));
      }),
    revision: () => op('read its revision', async () => (await redis.get(revisionKey)) ?? '0'),
    async close() {
      if (closed) return;
      closed = true;
      if (options.quitOnClose) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
