import { parseMessage } from './mime.ts';
import type { ParsedMessage } from './mime.ts';
import { MethodError, invalidArguments } from './errors.ts';
import type { Listing, MailState, EmailRecord } from './state.ts';
import type { MailboxAccess } from './types.ts';

export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';

export const LIMITS = {
  maxSizeUpload: 0,
  maxConcurrentUpload: 1,
  maxSizeRequest: 10_000_000,
  maxConcurrentRequests: 8,
  maxCallsInRequest: 32,
  maxObjectsInGet: 500,
  maxObjectsInSet: 500,
  collationAlgorithms: ['i;ascii-numeric', 'i;ascii-casemap', 'i;unicode-casemap'],
} as const;

/** What one API request's methods share: the authenticated account and a per-request listing cache. */
export class MethodContext {
  readonly account: string;
  readonly accountId: string;
  readonly state: MailState;
  readonly mailbox: MailboxAccess;
  readonly #parsed: ParsedCache;
  #listing: Promise<Listing> | undefined;

  constructor(account: string, accountId: string, state: MailState, mailbox: MailboxAccess, parsed: ParsedCache) {
    this.account = account;
    this.accountId = accountId;
    this.state = state;
    this.mailbox = mailbox;
    this.#parsed = parsed;
  }

  listing(): Promise<Listing> {
    this.#listing ??= this.state.load(this.account);
    return this.#listing;
  }

  /** After a change: the next listing() reads the store again. */
  invalidate(): void {
    this.#listing = undefined;
  }

  /** The parsed message (cached: messages never change, only their flags). */
  async message(record: EmailRecord): Promise<ParsedMessage | undefined> {
    return this.#parsed.get(this.account, record.storeId, () => this.mailbox.read(this.account, record.storeId));
  }

  /** Checks `accountId` (RFC 8620: accountNotFound when it is not one of the user's). */
  requireAccount(args: Record<string, unknown>): void {
    if (typeof args.accountId !== 'string') throw invalidArguments('accountId must be a string');
    if (args.accountId !== this.accountId) throw new MethodError('accountNotFound');
  }
}

/** A small LRU of parsed messages, by account and store id. */
export class ParsedCache {
  readonly #entries = new Map<string, ParsedMessage>();
  readonly #max: number;
  constructor(max = 256) {
    this.#max = max;
  }
  async get(account: string, storeId: string, read: () => Promise<Buffer | undefined>): Promise<ParsedMessage | undefined> {
    const key = `${account}\0${storeId}`;
    const known = this.#entries.get(key);
    if (known) {
      this.#entries.delete(key);
      this.#entries.set(key, known);
      return known;
    }
    const raw = await read();
    if (raw === undefined) return undefined;
    const parsed = parseMessage(raw);
    this.#entries.set(key, parsed);
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return parsed;
  }
}
