export { AutoBan, WHY_ALLOWED, WHY_TRUSTED_PROXY, WHY_UNKNOWN } from './autoban.ts';
export type { AutoBanOptions, AutoBanRate, BanResult } from './autoban.ts';
export type { Ban, BanStore } from './ban-store.ts';
export { createMemoryBanStore } from './ban-store.ts';
export { openSqliteBanStore, sqliteBanStorePath, SQLITE_BAN_STORE_FILE } from './sqlite-store.ts';
export { openRedisBanStore } from './redis-store.ts';
export type { RedisBanStoreOptions } from './redis-store.ts';
export { listBans, addBan, removeBan, formatBan } from './admin.ts';
export type { AddBanOptions } from './admin.ts';
export {
  ERR_AUTOBAN_INVALID_ADDRESS,
  ERR_AUTOBAN_INVALID_DURATION,
  ERR_AUTOBAN_INVALID_RATE,
  ERR_AUTOBAN_NEVER_BANNED,
  ERR_AUTOBAN_STORE_CLOSED,
  ERR_AUTOBAN_STORE_FAILED,
  ERR_AUTOBAN_STORE_OPEN,
} from './errors.ts';
