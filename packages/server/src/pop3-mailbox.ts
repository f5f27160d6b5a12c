import { messageKey } from '@portico/store';
import type { MaildirStore } from '@portico/store';
import type { Pop3Mailbox } from '@portico/pop3';

/**
 * POP3's Pop3Mailbox over a Maildir store. Message ids are Maildir keys (file name without ":2,FLAGS"):
 * they stay the same when another client (JMAP, IMAP) changes flags, so they serve as UIDL; the order is
 * the store's (oldest first), which gives the message numbers.
 */

/** The part of MaildirStore this needs. */
export type MaildirPop3Like = Pick<MaildirStore, 'list' | 'readByKey' | 'remove'>;

export function maildirPop3Mailbox(store: MaildirPop3Like): Pop3Mailbox {
  return {
    async list(account) {
      return (await store.list(account)).map((m) => ({ id: messageKey(m.id), size: m.size }));
    },
    read: (account, key) => store.readByKey(account, key),
    remove: (account, key) => store.remove(account, key),
  };
}
