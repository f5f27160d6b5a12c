import { ERR_MESSAGE_NOT_FOUND, messageFlags, messageKey } from '@portico/store';
import type { MailboxAccess, MailboxMessage, StoredKeyword } from '@portico/http';

/**
 * JMAP's MailboxAccess over a Maildir store. Message ids are Maildir keys (file name without ":2,FLAGS"),
 * so they stay the same when flags change; keywords map to Maildir flag letters, and letters JMAP does
 * not know (e.g. T, P) are kept when keywords are set.
 */

/** The part of MaildirStore this needs (structural, so tests can pass a fake). */
export interface MaildirLike {
  list(address: string): Promise<readonly { id: string; size: number; mtimeMs: number }[]>;
  read(address: string, id: string): Promise<Buffer>;
  setFlags(address: string, id: string, flags: string): Promise<string>;
  currentName(address: string, key: string): Promise<string | undefined>;
}

const LETTER: Record<StoredKeyword, string> = { $seen: 'S', $flagged: 'F', $answered: 'R', $draft: 'D' };
const KEYWORD = new Map<string, StoredKeyword>(Object.entries(LETTER).map(([k, l]) => [l, k as StoredKeyword]));

const notFound = (error: unknown) => (error as { code?: string }).code === ERR_MESSAGE_NOT_FOUND.code;

export function maildirMailboxAccess(store: MaildirLike): MailboxAccess {
  async function current(account: string, key: string): Promise<string | undefined> {
    return store.currentName(account, key);
  }
  return {
    async list(account): Promise<MailboxMessage[]> {
      return (await store.list(account)).map((m) => ({
        id: messageKey(m.id),
        size: m.size,
        receivedAt: m.mtimeMs,
        keywords: [...messageFlags(m.id)].flatMap((letter) => KEYWORD.get(letter) ?? []),
      }));
    },
    async read(account, key) {
      // Flags may be renamed between the listing and the read: look the file up again once.
      for (let attempt = 0; attempt < 2; attempt++) {
        const name = await current(account, key);
        if (name === undefined) return undefined;
        try {
          return await store.read(account, name);
        } catch (error) {
          if (!notFound(error)) throw error;
        }
      }
      return undefined;
    },
    async setKeywords(account, key, keywords) {
      const name = await current(account, key);
      if (name === undefined) return false;
      const kept = [...messageFlags(name)].filter((letter) => !KEYWORD.has(letter)).join('');
      try {
        await store.setFlags(account, name, kept + keywords.map((k) => LETTER[k]).join(''));
        return true;
      } catch (error) {
        if (notFound(error)) return false;
        throw error;
      }
    },
  };
}
