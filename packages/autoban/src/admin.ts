import { canonicalAddress, formatDuration, parseDuration } from '@portico/core';
import type { NetworkList } from '@portico/core';
import { ERR_AUTOBAN_INVALID_ADDRESS, ERR_AUTOBAN_INVALID_DURATION, ERR_AUTOBAN_NEVER_BANNED } from './errors.ts';
import { WHY_ALLOWED, WHY_TRUSTED_PROXY } from './autoban.ts';
import type { Ban, BanStore } from './ban-store.ts';

/** What `portico bans list|add|remove` calls. */

/** Live bans, soonest expiry first. */
export async function listBans(store: BanStore): Promise<Ban[]> {
  const bans = await store.list();
  return [...bans].sort((a, b) => a.expiresAt - b.expiresAt || a.address.localeCompare(b.address));
}

export interface AddBanOptions {
  readonly now?: () => number;
  /** When given, refuse to ban these (PORTICO_ERR_AUTOBAN_NEVER_BANNED), as the server would. */
  readonly allowedIps?: NetworkList;
  readonly trustedNetworks?: readonly NetworkList[];
}

function canonical(address: string): string {
  const text = address.trim();
  const result = canonicalAddress(text);
  if (result === undefined) throw ERR_AUTOBAN_INVALID_ADDRESS(address);
  return result;
}

/** Milliseconds from a number or a duration text ("1d"). */
function durationOf(value: number | string): number {
  const ms = typeof value === 'string' ? parseDuration(value) : value;
  if (ms === undefined || !Number.isFinite(ms) || ms < 1) {
    throw ERR_AUTOBAN_INVALID_DURATION(typeof value === 'string' ? JSON.stringify(value) : String(value));
  }
  return ms;
}

/**
 * Bans `address` (any strict IPv4/IPv6 text; stored in canonical form) for `durationMs` (ms or a
 * duration text such as "1d"); replaces an existing ban of that address. Answers the stored ban.
 */
export async function addBan(
  store: BanStore,
  address: string,
  durationMs: number | string,
  reason: string = 'manual',
  options: AddBanOptions = {},
): Promise<Ban> {
  const at = canonical(address);
  const ms = durationOf(durationMs);
  if (options.trustedNetworks?.some((list) => list.has(at))) throw ERR_AUTOBAN_NEVER_BANNED(at, WHY_TRUSTED_PROXY);
  if (options.allowedIps?.has(at)) throw ERR_AUTOBAN_NEVER_BANNED(at, WHY_ALLOWED);
  const now = (options.now ?? Date.now)();
  // One line of printable text: reasons end up in logs and protocol replies.
  const text = reason.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200) || 'manual';
  const ban: Ban = Object.freeze({ address: at, reason: text, createdAt: now, expiresAt: now + ms });
  await store.put(ban);
  return ban;
}

/** Lifts the ban of `address`; false when it was not banned. */
export async function removeBan(store: BanStore, address: string): Promise<boolean> {
  return store.remove(canonical(address));
}

/** One line for `portico bans list`: address, expiry, time left, reason. */
export function formatBan(ban: Ban, now: number = Date.now()): string {
  const left = Math.max(0, ban.expiresAt - now);
  const rounded = left >= 60_000 ? Math.ceil(left / 60_000) * 60_000 : Math.ceil(left / 1000) * 1000;
  return `${ban.address}\tuntil ${new Date(ban.expiresAt).toISOString()} (${formatDuration(rounded)} left)\t${ban.reason}`;
}

