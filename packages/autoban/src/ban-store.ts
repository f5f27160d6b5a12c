import { PorticoError } from '@portico/core';
import { ERR_AUTOBAN_STORE_CLOSED, ERR_AUTOBAN_STORE_FAILED } from './errors.ts';

/** One ban: the client address (canonical), why, and when it started and ends (ms since the epoch). */
export interface Ban {
  readonly address: string;
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * Where bans live. Expired bans are never returned. Addresses are canonical (core's canonicalAddress);
 * callers canonicalise before calling (AutoBan and the admin functions do).
 */
export interface BanStore {
  get(address: string): Promise<Ban | undefined>;
  /** Adds or replaces the ban of `ban.address`. */
  put(ban: Ban): Promise<void>;
  /** True when a (live) ban was removed. */
  remove(address: string): Promise<boolean>;
  list(): Promise<Ban[]>;
  close(): Promise<void>;
  /**
   * Optional: a token that changes whenever any process changed the bans, so AutoBan reloads the list
   * only when something changed (one cheap query per second instead of a full list).
   */
  revision?(): Promise<string>;
  /** For messages: "sqlite data/bans.sqlite", "redis portico:". */
  readonly description?: string;
}

/** A stored ban as read back (JSON from Redis, a row from SQLite); undefined when malformed. */
export function toBan(value: unknown): Ban | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.address !== 'string' || typeof v.reason !== 'string') return undefined;
  const createdAt = Number(v.createdAt);
  const expiresAt = Number(v.expiresAt);
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt)) return undefined;
  return Object.freeze({ address: v.address, reason: v.reason, createdAt, expiresAt });
}

/** Runs a store operation, turning driver errors into PORTICO_ERR_AUTOBAN_STORE_FAILED. */
export async function storeOperation<T>(where: string, operation: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PorticoError) throw error;
    const failure = ERR_AUTOBAN_STORE_FAILED(where, operation, error instanceof Error ? error.message : String(error));
    (failure as Error & { cause?: unknown }).cause = error;
    throw failure;
  }
}

/** An in-memory store (tests, or a server that wants no persistence). */
export function createMemoryBanStore(options: { now?: () => number } = {}): BanStore {
  const now = options.now ?? Date.now;
  const bans = new Map<string, Ban>();
  let revision = 0;
  let closed = false;
  const where = 'memory';
  const open = () => {
    if (closed) throw ERR_AUTOBAN_STORE_CLOSED(where);
  };
  const live = (ban: Ban | undefined) => {
    if (ban && ban.expiresAt <= now()) {
      bans.delete(ban.address);
      return undefined;
    }
    return ban;
  };
  return {
    description: where,
    async get(address) {
      open();
      return live(bans.get(address));
    },
    async put(ban) {
      open();
      bans.set(ban.address, Object.freeze({ ...ban }));
      revision++;
    },
    async remove(address) {
      open();
      const had = live(bans.get(address)) !== undefined;
      bans.delete(address);
      if (had) revision++;
      return had;
    },
    async list() {
      open();
      return [...bans.values()].filter((b) => live(b) !== undefined);
    },
    async revision() {
      open();
      return String(revision);
    },
    async close() {
      closed = true;
    },
  };
}
