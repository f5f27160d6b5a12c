import { blobIdOf, emailIdOf, stateOf, threadIdOf } from './ids.ts';
import type { MailboxAccess, StoredKeyword } from './types.ts';

/**
 * JMAP state strings derived from the store's listing: the Email state is a hash of every email's id and
 * keywords, so it changes when mail arrives, is removed, or has its flags changed (by JMAP, IMAP or
 * anyone renaming Maildir files). Each state handed out is remembered with its snapshot (id ->
 * keywords) for /changes; a state older than what is remembered gets cannotCalculateChanges.
 */

export interface EmailRecord {
  readonly storeId: string;
  readonly id: string;
  readonly blobId: string;
  readonly threadId: string;
  readonly size: number;
  readonly receivedAt: number;
  readonly keywords: readonly StoredKeyword[];
}

export interface Listing {
  readonly emails: readonly EmailRecord[];
  readonly byId: ReadonlyMap<string, EmailRecord>;
  readonly emailState: string;
  readonly mailboxState: string;
  readonly total: number;
  readonly unread: number;
}

export interface Changes {
  oldState: string;
  newState: string;
  hasMoreChanges: boolean;
  created: string[];
  updated: string[];
  destroyed: string[];
}

type Snapshot = ReadonlyMap<string, string>;

interface AccountLog {
  emailSnapshots: Map<string, Snapshot>;
  mailboxStates: Set<string>;
}

const REMEMBERED_STATES = 200;

function snapshotState(snapshot: Snapshot): string {
  const entries = [...snapshot.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `e${stateOf(entries.map(([id, sig]) => `${id}:${sig}`).join('\n'))}`;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > REMEMBERED_STATES) map.delete(map.keys().next().value as K);
}

export class MailState {
  readonly #mailbox: MailboxAccess;
  readonly #logs = new Map<string, AccountLog>();

  constructor(mailbox: MailboxAccess) {
    this.#mailbox = mailbox;
  }

  #log(account: string): AccountLog {
    let log = this.#logs.get(account);
    if (!log) {
      log = { emailSnapshots: new Map(), mailboxStates: new Set() };
      this.#logs.set(account, log);
    }
    return log;
  }

  /** Reads the account's listing and records its states. */
  async load(account: string): Promise<Listing> {
    const messages = await this.#mailbox.list(account);
    const emails: EmailRecord[] = messages.map((m) => ({
      storeId: m.id,
      id: emailIdOf(m.id),
      blobId: blobIdOf(m.id),
      threadId: threadIdOf(m.id),
      size: m.size,
      receivedAt: m.receivedAt,
      keywords: [...new Set(m.keywords)].sort(),
    }));
    const snapshot = new Map(emails.map((e) => [e.id, e.keywords.join(',')]));
    const emailState = snapshotState(snapshot);
    const total = emails.length;
    const unread = emails.filter((e) => !e.keywords.includes('$seen')).length;
    const mailboxState = `m${stateOf(`${total}/${unread}`)}`;
    const log = this.#log(account);
    remember(log.emailSnapshots, emailState, snapshot);
    log.mailboxStates.delete(mailboxState);
    log.mailboxStates.add(mailboxState);
    while (log.mailboxStates.size > REMEMBERED_STATES) log.mailboxStates.delete(log.mailboxStates.values().next().value!);
    return {
      emails,
      byId: new Map(emails.map((e) => [e.id, e])),
      emailState,
      mailboxState,
      total,
      unread,
    };
  }

  /** Email changes since a state this process handed out; undefined when it does not know that state. */
  emailChanges(account: string, listing: Listing, since: string, maxChanges: number | undefined): Changes | undefined {
    const log = this.#log(account);
    const old = log.emailSnapshots.get(since);
    if (!old) return undefined;
    const current = new Map(listing.emails.map((e) => [e.id, e.keywords.join(',')]));
    const all: { id: string; kind: 'created' | 'updated' | 'destroyed' }[] = [];
    for (const [id, sig] of current) {
      const before = old.get(id);
      if (before === undefined) all.push({ id, kind: 'created' });
      else if (before !== sig) all.push({ id, kind: 'updated' });
    }
    for (const id of old.keys()) if (!current.has(id)) all.push({ id, kind: 'destroyed' });
    let taken = all;
    let newState = listing.emailState;
    const more = maxChanges !== undefined && all.length > maxChanges;
    if (more) {
      // An intermediate state: the old snapshot with the first maxChanges changes applied.
      taken = all.slice(0, maxChanges);
      const middle = new Map(old);
      for (const change of taken) {
        if (change.kind === 'destroyed') middle.delete(change.id);
        else middle.set(change.id, current.get(change.id)!);
      }
      newState = snapshotState(middle);
      remember(log.emailSnapshots, newState, middle);
    }
    const pick = (kind: string) => taken.filter((c) => c.kind === kind).map((c) => c.id);
    return { oldState: since, newState, hasMoreChanges: more, created: pick('created'), updated: pick('updated'), destroyed: pick('destroyed') };
  }

  knowsMailboxState(account: string, state: string): boolean {
    return this.#log(account).mailboxStates.has(state);
  }
}
