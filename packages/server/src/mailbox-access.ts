import { messageFlags, messageKey } from '@portico/store';
import type { MaildirStore } from '@portico/store';
import type { MailboxAccess, MailboxMessage, StoredKeyword } from '@portico/http';

/**
 * JMAP's MailboxAccess over a Maildir store. Message ids are Maildir keys (file name without ":2,FLAGS"),
 * so they stay the same when flags change; keywords map to Maildir flag letters, and letters JMAP does
 * not know (e.g. T, P) are kept when keywords are set.
 */

/** The part of MaildirStore this needs. */
export type MaildirLike = Pick<MaildirStore, 'list' | 'readByKey' | 'updateFlags'>;

const LETTER: Record<StoredKeyword, string> = { $seen: 'S', $flagged: 'F', $answered: 'R', $draft: 'D' };
const KEYWORD = new Map<string, StoredKeyword>(Object.entries(LETTER).map(([k, l]) => [l, k as StoredKeyword]));

export function maildirMailboxAccess(store: MaildirLike): MailboxAccess {
  return {
    async list(account): Promise<MailboxMessage[]> {
      return (await store.list(account)).map((m) => ({
        id: messageKey(m.id),
        size: m.size,
        receivedAt: m.mtimeMs,
        keywords: [...messageFlags(m.id)].flatMap((letter) => KEYWORD.get(letter) ?? []),
      }));
    },
    read: (account, key) => store.readByKey(account, key),
    setKeywords: (account, key, keywords) =>
      store.updateFlags(account, key, (current) => [...current].filter((letter) => !KEYWORD.has(letter)).join('') + keywords.map((k) => LETTER[k]).join('')),
  };
}
