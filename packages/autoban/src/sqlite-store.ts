import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ERR_AUTOBAN_STORE_CLOSED, ERR_AUTOBAN_STORE_OPEN } from './errors.ts';
import { storeOperation, toBan } from './ban-store.ts';
import type { Ban, BanStore } from './ban-store.ts';

/** The file name of the embedded ban store inside server.data-dir. */
export const SQLITE_BAN_STORE_FILE = 'bans.sqlite';

/** `<data-dir>/bans.sqlite` */
export function sqliteBanStorePath(dataDir: string): string {
  return join(dataDir, SQLITE_BAN_STORE_FILE);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bans (
  address    TEXT    PRIMARY KEY,
  reason     TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS bans_expires_at ON bans (expires_at);
`;

/**
 * The embedded store (store.backend = "sqlite"): one node:sqlite file that the server and the
 * `portico bans` command share (WAL, busy timeout). Expired bans are not returned and are purged.
 * Node 24.21 prints no ExperimentalWarning for node:sqlite (a test holds it to that).
 */
export function openSqliteBanStore(path: string, options: { now?: () => number } = {}): BanStore {
  const now = options.now ?? Date.now;
  const where = `sqlite ${path}`;
  let db: DatabaseSync;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 5000');
    if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    db.exec(SCHEMA);
  } catch (error) {
    throw ERR_AUTOBAN_STORE_OPEN(where, error instanceof Error ? error.message : String(error));
  }

  const select = db.prepare('SELECT address, reason, created_at, expires_at FROM bans WHERE address = ? AND expires_at > ?');
  const upsert = db.prepare(
    `INSERT INTO bans (address, reason, created_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  );
  const removeLive = db.prepare('DELETE FROM bans WHERE address = ? AND expires_at > ?');
  const removeAny = db.prepare('DELETE FROM bans WHERE address = ?');
  const purge = db.prepare('DELETE FROM bans WHERE expires_at <= ?');
  const selectAll = db.prepare('SELECT address, reason, created_at, expires_at FROM bans WHERE expires_at > ? ORDER BY expires_at, address');
  const dataVersion = db.prepare('PRAGMA data_version');

  let closed = false;
  // data_version changes when another connection commits; our own writes bump `localWrites`.
  let localWrites = 0;

  const row = (r: Record<string, unknown> | undefined): Ban | undefined =>
    r && toBan({ address: r.address, reason: r.reason, createdAt: r.created_at, expiresAt: r.expires_at });

  function op<T>(operation: string, run: () => T): Promise<T> {
    if (closed) return Promise.reject(ERR_AUTOBAN_STORE_CLOSED(where));
    return storeOperation(where, operation, run);
  }

  return {
    description: where,
    get: (address) =>
      op('read a ban', () => {
        const ban = row(select.get(address, now()) as Record<string, unknown> | undefined);
        if (!ban) removeAny.run(address); // drops an expired row, if any
        return ban;
      }),
    put: (ban) =>
      op('store a ban', () => {
        upsert.run(ban.address, ban.reason, Math.round(ban.createdAt), Math.round(ban.expiresAt));
        localWrites++;
      }),
    remove: (address) =>
      op('remove a ban', () => {
        const removed = Number(removeLive.run(address, now()).changes) > 0;
        removeAny.run(address);
        localWrites++;
        return removed;
      }),
    list: () =>
      op('list bans', () => {
        const at = now();
        purge.run(at);
        return (selectAll.all(at) as Record<string, unknown>[]).map(row).filter((b): b is Ban => b !== undefined);
      }),
    revision: () =>
      op('read its revision', () => {
        const version = (dataVersion.get() as Record<string, unknown> | undefined)?.data_version;
        return `${String(version)}:${localWrites}`;
      }),
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
