import type { Logger } from 'pino';
import { ALLOW, canonicalAddress, formatDuration, refuse } from '@portico/core';
import type { ConnectionInfo, NetworkList, SecurityEvent, SecurityEventKind, SecurityEventSink, Verdict } from '@portico/core';
import { ERR_AUTOBAN_INVALID_DURATION, ERR_AUTOBAN_INVALID_RATE } from './errors.ts';
import type { Ban, BanStore } from './ban-store.ts';

export interface AutoBanRate {
  readonly count: number;
  readonly perMs: number;
}

export interface AutoBanOptions {
  /** server.auto-ban.auth.rate / scan.rate / loiter.rate (core's parseRate); an absent kind never bans. */
  readonly rates: Partial<Record<SecurityEventKind, AutoBanRate>>;
  /** server.auto-ban.duration */
  readonly durationMs: number;
  /** server.auto-ban.allowed-ips: never banned. */
  readonly allowedIps: NetworkList;
  /** server.proxy.trusted-networks and every listener's proxy.trusted-networks: never banned. */
  readonly trustedNetworks: readonly NetworkList[];
  /** Where bans live; AutoBan does not own it (close it yourself after AutoBan.close()). */
  readonly store: BanStore;
  readonly logger: Logger;
  /** Clock for counting, expiry and the cache (tests inject one). */
  readonly now?: () => number;
  /** How long the in-memory ban cache is trusted before asking the store again (default 1000 ms). */
  readonly refreshMs?: number;
  /** Most client addresses counted at once; the oldest are forgotten first (default 100000). */
  readonly maxTracked?: number;
}

export interface BanResult {
  readonly banned: boolean;
  /** Why not, when banned is false. */
  readonly why?: string;
  readonly ban?: Ban;
}

const CONFIG_KEY: Partial<Record<SecurityEventKind, string>> = { 'auth-failure': 'auth.rate', scan: 'scan.rate', loiter: 'loiter.rate' };

export const WHY_TRUSTED_PROXY = 'it is a trusted proxy address (server.proxy.trusted-networks or a listener proxy.trusted-networks); the client behind it is unknown';
export const WHY_ALLOWED = 'it is listed in server.auto-ban.allowed-ips';
export const WHY_UNKNOWN = 'the client address is unknown';

/** The client is unknown when there is no address, or the "client" is the trusted proxy itself. */
function unknownClient(info: ConnectionInfo): boolean {
  if (!info.client.address) return true;
  if (info.via === 'proxy-v2-local') return true;
  return info.peerIsTrustedProxy && info.client.address === info.peer.address;
}

/**
 * Counts SecurityEvents per real client IP and bans a client that reaches a rate; answers whether a
 * connection may proceed. Trusted proxies, allowed IPs and unknown clients are never banned (a proxy's
 * ban would ban everyone behind it).
 */
export class AutoBan implements SecurityEventSink {
  readonly #rates: Partial<Record<SecurityEventKind, AutoBanRate>>;
  readonly #durationMs: number;
  readonly #allowed: NetworkList;
  readonly #trusted: readonly NetworkList[];
  readonly #store: BanStore;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #maxTracked: number;

  /** `${kind} ${address}` -> times of the events inside the window (at most `count`). */
  readonly #counters = new Map<string, number[]>();
  #reportsSinceSweep = 0;
  /** The bans as last read from the store, plus this process's own. */
  #bans = new Map<string, Ban>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #revision: string | undefined;
  #refreshing: Promise<void> | undefined;
  /** Writes made while a refresh was reading the store, re-applied over its result. */
  #writesDuringRefresh: Map<string, Ban | null> | undefined;
  /** address -> createdAt of the ban whose refusal was already logged. */
  readonly #refusalLogged = new Map<string, number>();
  readonly #pending = new Set<Promise<unknown>>();
  #storeErrorLoggedAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(options: AutoBanOptions) {
    const rates: Partial<Record<SecurityEventKind, AutoBanRate>> = {};
    for (const [kind, rate] of Object.entries(options.rates) as [SecurityEventKind, AutoBanRate | undefined][]) {
      if (rate === undefined) continue;
      const key = CONFIG_KEY[kind] ?? kind;
      if (!CONFIG_KEY[kind]) throw ERR_AUTOBAN_INVALID_RATE(key, 'unknown security event kind (expected auth, scan or loiter)');
      if (!Number.isSafeInteger(rate.count) || rate.count < 1) throw ERR_AUTOBAN_INVALID_RATE(key, `count ${String(rate.count)} is not a whole number >= 1`);
      if (!Number.isFinite(rate.perMs) || rate.perMs < 1) throw ERR_AUTOBAN_INVALID_RATE(key, `window ${String(rate.perMs)}ms is not >= 1ms`);
      rates[kind] = Object.freeze({ count: rate.count, perMs: rate.perMs });
    }
    this.#rates = Object.freeze(rates);
    this.#durationMs = checkDuration(options.durationMs);
    this.#allowed = options.allowedIps;
    this.#trusted = Object.freeze([...options.trustedNetworks]);
    this.#store = options.store;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#maxTracked = options.maxTracked ?? 100_000;
  }

  /** Why `address` (canonical) must never be banned, or undefined. */
  whyNeverBanned(address: string): string | undefined {
    if (!address) return WHY_UNKNOWN;
    if (this.#trusted.some((list) => list.has(address))) return WHY_TRUSTED_PROXY;
    if (this.#allowed.has(address)) return WHY_ALLOWED;
    return undefined;
  }

  /** SecurityEventSink: never throws, never waits; a ban it causes is stored in the background. */
  report(event: SecurityEvent): void {
    if (this.#closed) return;
    const rate = this.#rates[event.kind];
    const address = event.connection.client.address;
    if (!rate) return;
    const now = this.#now();
    const live = this.#bans.get(address);
    if (live && live.expiresAt > now) return; // already banned: nothing more to count
    const key = `${event.kind} ${address}`;
    let times = this.#counters.get(key);
    if (!times) {
      if (this.#counters.size >= this.#maxTracked) {
        const oldest = this.#counters.keys().next().value;
        if (oldest !== undefined) this.#counters.delete(oldest);
      }
      times = [];
      this.#counters.set(key, times);
    }
    while (times.length > 0 && now - times[0]! >= rate.perMs) times.shift();
    times.push(now);
    if (++this.#reportsSinceSweep >= 1000) this.#sweep(now);
    if (times.length < rate.count) return;
    this.#counters.delete(key);
    const reason = `${event.kind}: ${rate.count} in ${formatDuration(rate.perMs)} (last: ${event.reason})`;
    this.#track(this.#banFromEvent(event, reason));
  }

  async #banFromEvent(event: SecurityEvent, reason: string): Promise<void> {
    const info = event.connection;
    if (unknownClient(info)) {
      const who = info.client.address || `the client of connection ${info.id}`;
      const why = info.client.address ? WHY_TRUSTED_PROXY : WHY_UNKNOWN;
      this.#log.warn({ client: info.client.address, peer: info.peer.address, conn: info.id, reason, why }, `not banning ${who}: ${why}`);
      return;
    }
    await this.ban(info.client.address, reason);
  }

  /**
   * Bans `address` for `durationMs` (default server.auto-ban.duration); an existing longer ban is kept.
   * Refuses (and logs a warning saying why) for trusted proxies, allowed IPs and unknown addresses.
   */
  async ban(address: string, reason: string, durationMs: number = this.#durationMs): Promise<BanResult> {
    checkDuration(durationMs);
    const canonical = address ? canonicalAddress(address) : '';
    const why = canonical === undefined ? 'it is not an IP address' : this.whyNeverBanned(canonical);
    if (why !== undefined || canonical === undefined) {
      const who = address || 'a client';
      this.#log.warn({ client: address, reason, why }, `not banning ${who}: ${why}`);
      return { banned: false, why };
    }
    const now = this.#now();
    const existing = this.#bans.get(canonical);
    if (existing && existing.expiresAt >= now + durationMs) return { banned: true, ban: existing };
    const ban: Ban = Object.freeze({ address: canonical, reason, createdAt: now, expiresAt: now + durationMs });
    this.#remember(canonical, ban);
    try {
      await this.#store.put(ban);
    } catch (error) {
      // Still enforced by this process from its cache; the store may come back.
      this.#storeFailed(error, 'store a ban');
    }
    this.#log.warn(
      { client: canonical, reason: ban.reason, expiresAt: new Date(ban.expiresAt).toISOString(), duration: formatDuration(ban.expiresAt - ban.createdAt) },
      'banned client',
    );
    return { banned: true, ban };
  }

  /** Lifts a ban (here and in the store). */
  async unban(address: string): Promise<boolean> {
    const canonical = canonicalAddress(address) ?? address;
    const had = this.#bans.has(canonical);
    this.#remember(canonical, null);
    for (const key of [...this.#counters.keys()]) if (key.endsWith(` ${canonical}`)) this.#counters.delete(key);
    const removed = await this.#store.remove(canonical);
    if (removed || had) this.#log.info({ client: canonical }, 'ban lifted');
    return removed || had;
  }

  /** The live ban of `address`, from the cache (refreshed at most once per refreshMs). */
  async banOf(address: string): Promise<Ban | undefined> {
    await this.#refreshIfStale();
    const ban = this.#bans.get(canonicalAddress(address) ?? address);
    return ban && ban.expiresAt > this.#now() ? ban : undefined;
  }

  /**
   * Admission before the greeting: refuse('banned', ...) for a banned client, permanent (5xx), with the
   * reason and expiry. Logs "refused banned client" once per ban, not once per attempt.
   */
  async admit(info: ConnectionInfo): Promise<Verdict> {
    if (this.#closed || unknownClient(info)) return ALLOW;
    const address = info.client.address;
    if (this.whyNeverBanned(address) !== undefined) return ALLOW;
    await this.#refreshIfStale();
    const ban = this.#bans.get(address);
    if (!ban) return ALLOW;
    const now = this.#now();
    if (ban.expiresAt <= now) {
      this.#bans.delete(address);
      this.#refusalLogged.delete(address);
      return ALLOW;
    }
    const until = new Date(ban.expiresAt).toISOString();
    if (this.#refusalLogged.get(address) !== ban.createdAt) {
      this.#refusalLogged.set(address, ban.createdAt);
      this.#log.info({ client: address, conn: info.id, listener: info.listener, reason: ban.reason, expiresAt: until }, 'refused banned client');
    }
    const retryAfter = Math.max(1, Math.ceil((ban.expiresAt - now) / 1000));
    return refuse('banned', `${address} is banned until ${until} (${ban.reason})`, false, retryAfter);
  }

  /** Reloads the cache from the store now (normally done at most once per refreshMs by admit). */
  async refresh(): Promise<void> {
    this.#loadedAt = Number.NEGATIVE_INFINITY;
    await this.#refreshIfStale();
  }

  /** Waits until the bans that report() started are stored. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stops counting and waits for pending bans. Does not close the store (its owner does). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
    this.#counters.clear();
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.#log.error({ err: error }, 'auto-ban failed')).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #remember(address: string, ban: Ban | null): void {
    if (ban) this.#bans.set(address, ban);
    else {
      this.#bans.delete(address);
      this.#refusalLogged.delete(address);
    }
    this.#writesDuringRefresh?.set(address, ban);
  }

  #sweep(now: number): void {
    this.#reportsSinceSweep = 0;
    for (const [key, times] of this.#counters) {
      const kind = key.slice(0, key.indexOf(' ')) as SecurityEventKind;
      const rate = this.#rates[kind];
      const newest = times[times.length - 1];
      if (!rate || newest === undefined || now - newest >= rate.perMs) this.#counters.delete(key);
    }
  }

  async #refreshIfStale(): Promise<void> {
    if (this.#now() - this.#loadedAt < this.#refreshMs) return;
    this.#refreshing ??= this.#reload().finally(() => {
      this.#refreshing = undefined;
    });
    await this.#refreshing;
  }

  async #reload(): Promise<void> {
    const startedAt = this.#now();
    this.#writesDuringRefresh = new Map();
    try {
      const revision = this.#store.revision ? await this.#store.revision() : undefined;
      if (revision !== undefined && revision === this.#revision) {
        this.#loadedAt = startedAt;
        return;
      }
      const list = await this.#store.list();
      const bans = new Map<string, Ban>();
      for (const ban of list) if (ban.expiresAt > startedAt) bans.set(ban.address, ban);
      for (const [address, ban] of this.#writesDuringRefresh) {
        if (ban) bans.set(address, ban);
        else bans.delete(address);
      }
      for (const address of this.#refusalLogged.keys()) if (!bans.has(address)) this.#refusalLogged.delete(address);
      this.#bans = bans;
      this.#revision = revision;
      this.#loadedAt = startedAt;
    } catch (error) {
      // Keep the last known bans; try again after refreshMs.
      this.#loadedAt = startedAt;
      this.#storeFailed(error, 'reload bans');
    } finally {
      this.#writesDuringRefresh = undefined;
    }
  }

  #storeFailed(error: unknown, operation: string): void {
    const now = this.#now();
    if (now - this.#storeErrorLoggedAt < 60_000) return;
    this.#storeErrorLoggedAt = now;
    this.#log.error({ err: error, store: this.#store.description }, `ban store failed to ${operation}; using the bans in memory`);
  }
}

function checkDuration(ms: number): number {
  if (!Number.isFinite(ms) || ms < 1) throw ERR_AUTOBAN_INVALID_DURATION(String(ms));
  return ms;
}
