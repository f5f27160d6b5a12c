import { ERR_MESSAGE_NOT_FOUND, messageKey } from '@portico/store';
import type { Pop3Mailbox } from '@portico/pop3';

/**
 * POP3's Pop3Mailbox over a Maildir store. Message ids are Maildir keys (file name without ":2,FLAGS"):
 * they stay the same when another client (JMAP, IMAP) changes flags, so they serve as UIDL; the order is
 * the store's (oldest first), which gives the message numbers.
 */

/** The part of MaildirStore this needs (structural, so tests can pass a fake). */
export interface MaildirPop3Like {
  list(address: string): Promise<readonly { id: string; size: number }[]>;
  read(address: string, id: string): Promise<Buffer>;
  remove(address: string, id: string): Promise<boolean>;
  currentName(address: string, key: string): Promise<string | undefined>;
}

const notFound = (error: unknown) => (error as { code?: string }).code === ERR_MESSAGE_NOT_FOUND.code;

export function maildirPop3Mailbox(store: MaildirPop3Like): Pop3Mailbox {
  return {
    async list(account) {
      return (await store.list(account)).map((m) => ({ id: messageKey(m.id), size: m.size }));
    },
    async read(account, key) {
      // Flags may be renamed between the listing and the read: look the file up again once.
      for (let attempt = 0; attempt < 2; attempt++) {
        const name = await store.currentName(account, key);
        if (name === undefined) return undefined;
        try {
          return await store.read(account, name);
        } catch (error) {
          if (!notFound(error)) throw error;
        }
      }
      return undefined;
    },
    remove: (account, key) => store.remove(account, key),
  };
}
