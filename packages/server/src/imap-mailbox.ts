import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { messageFlags, messageKey } from '@portico/store';
import type { MaildirStore } from '@portico/store';
import type { ImapMailbox, ImapMessage, SystemFlag } from '@portico/imap';

/**
 * IMAP's INBOX over a Maildir store. IMAP needs UIDs that never change and only grow; Maildir keys
 * (file names without ":2,FLAGS") are stable but not numbers, so a small map `<maildir>/portico-uids`
 * ({uidValidity, uidNext, uids: {key: uid}}) assigns them, in list order (oldest first), and is
 * written atomically (tmp + rename). A lost or unreadable map starts a new UIDVALIDITY, which tells
 * clients to forget their cache: correct, if slow. Flags map to Maildir letters; letters IMAP does
 * not know (e.g. P) are kept.
 */

/** The part of MaildirStore this needs. */
export type MaildirForImap = Pick<MaildirStore, 'pathOf' | 'list' | 'readByKey' | 'updateFlags' | 'remove'>;

interface UidMap {
  uidValidity: number;
  uidNext: number;
  uids: Record<string, number>;
}

export const UID_FILE = 'portico-uids';

const LETTER: Record<SystemFlag, string> = { '\\Seen': 'S', '\\Flagged': 'F', '\\Answered': 'R', '\\Draft': 'D', '\\Deleted': 'T' };
const FLAG = new Map(Object.entries(LETTER).map(([f, l]) => [l, f as SystemFlag]));


/** A parsed map that is sound: integer UIDs below uidNext; uids in a prototype-less record. */
function validMap(raw: unknown): UidMap | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { uidValidity, uidNext, uids } = raw as Partial<Record<keyof UidMap, unknown>>;
  if (!Number.isSafeInteger(uidValidity) || !Number.isSafeInteger(uidNext) || (uidNext as number) < 1) return undefined;
  if (typeof uids !== 'object' || uids === null || Array.isArray(uids)) return undefined;
  const clean: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [key, uid] of Object.entries(uids)) {
    // uidNext must stay above every UID given, or a UID would be given twice.
    if (!Number.isSafeInteger(uid) || (uid as number) < 1 || (uid as number) >= (uidNext as number)) return undefined;
    clean[key] = uid as number;
  }
  return { uidValidity: uidValidity as number, uidNext: uidNext as number, uids: clean };
}

const shared = new WeakMap<MaildirForImap, ImapMailbox>();

/** One adapter per store, so that every IMAP listener shares the per-account write queue. */
export function imapMailboxFor(store: MaildirForImap): ImapMailbox {
  let mailbox = shared.get(store);
  if (!mailbox) shared.set(store, (mailbox = maildirImapMailbox(store)));
  return mailbox;
}

export function maildirImapMailbox(store: MaildirForImap, now: () => number = Date.now): ImapMailbox {
  // Sessions of one account run concurrently: the map is read, changed and written one at a time.
  const queues = new Map<string, Promise<unknown>>();
  function serial<T>(account: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(account) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => {});
    queues.set(account, tail);
    void tail.then(() => {
      if (queues.get(account) === tail) queues.delete(account);
    });
    return result;
  }

  /**
   * The map, or undefined when it is missing or damaged (a new UIDVALIDITY then). Any other failure
   * (EMFILE, EACCES, EIO) is thrown: replacing a good map because it could not be read right now would
   * make every client forget its cache.
   */
  async function loadMap(dir: string): Promise<UidMap | undefined> {
    let text: string;
    try {
      text = await readFile(join(dir, UID_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
    return validMap(raw);
  }

  async function saveMap(dir: string, map: UidMap): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `${UID_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    // Durable before it replaces the old map, and the rename durable too: a power cut must not leave
    // an empty map (which would start a new UIDVALIDITY and make every client drop its cache).
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(map));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(dir, UID_FILE));
    const directory = await open(dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  /** The messages with their UIDs (ascending), assigning UIDs to new ones and forgetting removed ones. */
  function snapshot(account: string) {
    return serial(account, async () => {
      const dir = store.pathOf(account);
      const listed = await store.list(account);
      let map = await loadMap(dir);
      let changed = false;
      if (!map) {
        // Seconds since the epoch: a new map always gets a larger UIDVALIDITY than the one it replaces.
        map = { uidValidity: Math.max(1, Math.floor(now() / 1000)), uidNext: 1, uids: Object.create(null) as Record<string, number> };
        changed = true;
      }
      const uids: Record<string, number> = Object.create(null) as Record<string, number>;
      const messages: (ImapMessage & { key: string })[] = [];
      let count = 0;
      for (const m of listed) {
        const key = messageKey(m.id);
        // store.list reads new/ then cur/: a message moved meanwhile can be listed twice; keep one.
        if (key in uids) continue;
        count++;
        let uid = map.uids[key];
        if (uid === undefined) {
          uid = map.uidNext++;
          changed = true;
        }
        uids[key] = uid;
        messages.push({ key, uid, size: m.size, internalDate: m.mtimeMs, flags: [...messageFlags(m.id)].flatMap((l) => FLAG.get(l) ?? []) });
      }
      if (Object.keys(map.uids).length !== count) changed = true;
      map.uids = uids;
      if (changed) await saveMap(dir, map);
      messages.sort((a, b) => a.uid - b.uid);
      return { uidValidity: map.uidValidity, uidNext: map.uidNext, messages, keys: new Map(messages.map((m) => [m.uid, m.key])) };
    });
  }

  async function keyOf(account: string, uid: number): Promise<string | undefined> {
    const map = await loadMap(store.pathOf(account));
    return map ? Object.entries(map.uids).find(([, u]) => u === uid)?.[0] : undefined;
  }

  return {
    async list(account) {
      const { uidValidity, uidNext, messages } = await snapshot(account);
      return { uidValidity, uidNext, messages: messages.map(({ key: _key, ...m }) => m) };
    },
    async read(account, uid) {
      const key = await keyOf(account, uid);
      return key === undefined ? undefined : store.readByKey(account, key);
    },
    async setFlags(account, uid, flags) {
      const key = await keyOf(account, uid);
      if (key === undefined) return false;
      return store.updateFlags(account, key, (current) => [...current].filter((l) => !FLAG.has(l)).join('') + flags.map((f) => LETTER[f]).join(''));
    },
    async expunge(account, uids) {
      const map = await loadMap(store.pathOf(account));
      if (!map) return;
      const wanted = new Set(uids);
      for (const [key, uid] of Object.entries(map.uids)) if (wanted.has(uid)) await store.remove(account, key);
    },
  };
}
