import { mkdir, open, rename, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { ERR_DELIVERY_FAILED, ERR_INVALID_ADDRESS, ERR_INVALID_MESSAGE_ID, ERR_MESSAGE_NOT_FOUND } from './errors.ts';

/**
 * Maildir (https://cr.yp.to/proto/maildir.html) under `<dataDir>/mail/<address>/{tmp,new,cur}`.
 * Delivery writes to tmp/, fsyncs the file, renames it into new/ and fsyncs new/, so a message that
 * was answered 250 survives a crash, and a failed write leaves nothing visible in new/.
 */

export interface MaildirStoreOptions {
  /** `[server] data-dir`; Maildirs live under `<dataDir>/mail/`. */
  readonly dataDir: string;
  /** Host part of the unique file names (default: os.hostname()). */
  readonly hostname?: string;
}

export interface StoredMessage {
  /** The file name in new/ or cur/ (with its ":2,FLAGS" info part, when in cur/). */
  readonly id: string;
  readonly folder: 'new' | 'cur';
  readonly size: number;
  /** Modification time of the file, ms since the epoch. */
  readonly mtimeMs: number;
}

// A mailbox address as it names a directory: local@domain, no path separators, no dot segments.
const ADDRESS = /^[^\s/\\@\0]+@[a-z0-9.-]+$/;
const FILE_NAME = /^[A-Za-z0-9._,=\\-]+(:2,[A-Za-z]*)?$/;

/** The directory name of a mailbox: the lower-cased address (accounts match case-insensitively). Throws on anything unsafe. */
export function mailboxName(address: string): string {
  const normal = address.trim().toLowerCase();
  if (!ADDRESS.test(normal) || normal.startsWith('.') || normal.length > 320) throw ERR_INVALID_ADDRESS(address);
  return normal;
}

function encodeHost(host: string): string {
  return host.replace(/\//g, '\\057').replace(/:/g, '\\072');
}

/** The file names in one folder of a Maildir; none when the folder does not exist (yet). */
async function namesIn(dir: string, folder: 'new' | 'cur'): Promise<string[]> {
  try {
    return await readdir(join(dir, folder));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
}

export class MaildirStore {
  readonly root: string;
  readonly #host: string;
  #counter = 0;

  constructor(options: MaildirStoreOptions) {
    this.root = join(options.dataDir, 'mail');
    this.#host = encodeHost(options.hostname ?? osHostname());
  }

  /** `<dataDir>/mail/<address>` */
  pathOf(address: string): string {
    return join(this.root, mailboxName(address));
  }

  /** A unique name: `<seconds>.M<micros>P<pid>Q<n>R<random>.<host>` (the Maildir recommendation). */
  uniqueName(): string {
    const now = process.hrtime.bigint();
    const ms = Date.now();
    const micros = Number((now / 1000n) % 1_000_000n);
    this.#counter += 1;
    return `${Math.floor(ms / 1000)}.M${micros}P${process.pid}Q${this.#counter}R${randomBytes(8).toString('hex')}.${this.#host}`;
  }

  async ensureMaildir(address: string): Promise<string> {
    const dir = this.pathOf(address);
    for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Delivers one message and answers its file name in new/. Throws PORTICO_ERR_STORE_DELIVERY_FAILED
   * (or PORTICO_ERR_STORE_INVALID_ADDRESS) when the message is not safely on disk.
   */
  async deliver(address: string, message: Buffer): Promise<string> {
    const dir = await this.ensureMaildir(address).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'PORTICO_ERR_STORE_INVALID_ADDRESS') throw error;
      throw wrap(address, error);
    });
    const name = `${this.uniqueName()},S=${message.length}`;
    const tmpPath = join(dir, 'tmp', name);
    const newPath = join(dir, 'new', name);
    try {
      const file = await open(tmpPath, 'wx', 0o600);
      try {
        await file.writeFile(message);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmpPath, newPath);
      const newDir = await open(join(dir, 'new'), 'r');
      try {
        await newDir.sync();
      } finally {
        await newDir.close();
      }
      return name;
    } catch (error) {
      await unlink(tmpPath).catch(() => {});
      throw wrap(address, error);
    }
  }

  /** Messages in new/ and cur/, oldest first. An address without a Maildir has none. */
  async list(address: string): Promise<StoredMessage[]> {
    const dir = this.pathOf(address);
    const out: StoredMessage[] = [];
    for (const folder of ['new', 'cur'] as const) {
      for (const id of await namesIn(dir, folder)) {
        if (id.startsWith('.')) continue;
        try {
          const s = await stat(join(dir, folder, id));
          if (s.isFile()) out.push({ id, folder, size: s.size, mtimeMs: s.mtimeMs });
        } catch {
          // moved or deleted meanwhile
        }
      }
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.id.localeCompare(b.id));
  }

  /** The bytes of one message, looked up by its id in new/ then cur/. */
  async read(address: string, id: string): Promise<Buffer> {
    if (!FILE_NAME.test(id) || id.startsWith('.')) throw ERR_INVALID_MESSAGE_ID(id);
    const dir = this.pathOf(address);
    for (const folder of ['new', 'cur']) {
      try {
        return await readFile(join(dir, folder, id));
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
    }
    throw ERR_MESSAGE_NOT_FOUND(address, id);
  }

  /**
   * Sets the Maildir flags of one message (letters such as "S" seen, "F" flagged, "R" replied, "D" draft,
   * "T" trashed; ASCII-sorted, duplicates dropped): renames it to `cur/<key>:2,<flags>`. `id` is its
   * current file name or its key (the name without ":2,..."). Answers the new file name.
   */
  async setFlags(address: string, id: string, flags: string): Promise<string> {
    if (!FILE_NAME.test(id) || id.startsWith('.')) throw ERR_INVALID_MESSAGE_ID(id);
    if (!/^[A-Za-z]*$/.test(flags)) throw ERR_INVALID_MESSAGE_ID(`${id}:2,${flags}`);
    const key = messageKey(id);
    const dir = this.pathOf(address);
    const sorted = [...new Set(flags)].sort().join('');
    const target = join(dir, 'cur', `${key}:2,${sorted}`);
    // Someone else (another session) may rename the file between readdir and rename: look again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await this.#locate(dir, key);
      if (!found) break;
      const from = join(dir, found.folder, found.name);
      try {
        if (from !== target) await rename(from, target);
        return `${key}:2,${sorted}`;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
    }
    throw ERR_MESSAGE_NOT_FOUND(address, id);
  }

  /**
   * Deletes one message (`id`: its file name or its key). Answers false when it is already gone
   * (another session deleted it): deleting is idempotent, as POP3 DELE and IMAP EXPUNGE need.
   */
  async remove(address: string, id: string): Promise<boolean> {
    if (!FILE_NAME.test(id) || id.startsWith('.')) throw ERR_INVALID_MESSAGE_ID(id);
    const dir = this.pathOf(address);
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await this.#locate(dir, messageKey(id));
      if (!found) return false;
      try {
        await unlink(join(dir, found.folder, found.name));
        return true;
      } catch (error) {
        // Renamed (flags changed) between readdir and unlink: look again.
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
    }
    return false;
  }

  /**
   * The bytes of the message with this key, whatever its flags; undefined when it is gone. Another
   * session may rename it (new flags) between the lookup and the read: then it is looked up again.
   */
  async readByKey(address: string, key: string): Promise<Buffer | undefined> {
    const dir = this.pathOf(address);
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await this.#locate(dir, key);
      if (!found) return undefined;
      try {
        return await readFile(join(dir, found.folder, found.name));
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
  }

  /**
   * Replaces the flags of the message with this key by `update(current flags)`: a caller that knows
   * some letters (JMAP keywords, IMAP system flags) keeps the others. False when the message is gone.
   */
  async updateFlags(address: string, key: string, update: (current: string) => string): Promise<boolean> {
    const name = await this.currentName(address, key);
    if (name === undefined) return false;
    try {
      await this.setFlags(address, name, update(messageFlags(name)));
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === ERR_MESSAGE_NOT_FOUND.code) return false;
      throw error;
    }
  }

  /** The current file name of the message with this key (flags change it), without a stat per file. */
  async currentName(address: string, key: string): Promise<string | undefined> {
    return (await this.#locate(this.pathOf(address), key))?.name;
  }

  async #locate(dir: string, key: string): Promise<{ folder: 'new' | 'cur'; name: string } | undefined> {
    for (const folder of ['new', 'cur'] as const) {
      const name = (await namesIn(dir, folder)).find((n) => messageKey(n) === key);
      if (name !== undefined) return { folder, name };
    }
    return undefined;
  }
}

/** The stable part of a Maildir file name: everything before ":2," (flags change, the key does not). */
export function messageKey(id: string): string {
  const at = id.indexOf(':2,');
  return at === -1 ? id : id.slice(0, at);
}

/** The flag letters of a Maildir file name ("" in new/ or without an info part). */
export function messageFlags(id: string): string {
  const at = id.indexOf(':2,');
  return at === -1 ? '' : id.slice(at + 3);
}

function wrap(address: string, error: unknown): Error {
  const e = ERR_DELIVERY_FAILED(address, error instanceof Error ? error.message : String(error));
  (e as { cause?: unknown }).cause = error;
  return e;
}
