import { MAIL, LIMITS } from '../context.ts';
import type { MethodContext } from '../context.ts';
import type { MethodSpec } from '../dispatch.ts';
import { MethodError, invalidArguments, setError } from '../errors.ts';
import { INBOX_ID } from '../ids.ts';
import { isObject, optionalBoolean, optionalInt, optionalString, optionalStrings } from '../args.ts';
import {
  DEFAULT_BODY_PROPERTIES,
  DEFAULT_EMAIL_PROPERTIES,
  emailJson,
  needsMessage,
  unknownBodyProperty,
  unknownEmailProperty,
} from '../email-view.ts';
import type { EmailRecord } from '../state.ts';
import { STORED_KEYWORDS } from '../types.ts';
import type { StoredKeyword } from '../types.ts';

/** Email/get, /query, /changes, /queryChanges, /set (RFC 8621 section 4). */

async function get(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const listing = await ctx.listing();
  const ids = optionalStrings(args, 'ids') ?? listing.emails.map((e) => e.id);
  if (ids.length > LIMITS.maxObjectsInGet) throw new MethodError('requestTooLarge', `at most ${LIMITS.maxObjectsInGet} ids`);
  const properties = optionalStrings(args, 'properties') ?? DEFAULT_EMAIL_PROPERTIES;
  const unknown = unknownEmailProperty(properties);
  if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown}`);
  const bodyProperties = optionalStrings(args, 'bodyProperties') ?? DEFAULT_BODY_PROPERTIES;
  const unknownBody = unknownBodyProperty(bodyProperties);
  if (unknownBody !== undefined) throw invalidArguments(`unknown body property ${unknownBody}`);
  const body = {
    bodyProperties,
    fetchTextBodyValues: optionalBoolean(args, 'fetchTextBodyValues', false),
    fetchHTMLBodyValues: optionalBoolean(args, 'fetchHTMLBodyValues', false),
    fetchAllBodyValues: optionalBoolean(args, 'fetchAllBodyValues', false),
    maxBodyValueBytes: optionalInt(args, 'maxBodyValueBytes', 0)!,
  };
  const withMessage = properties.some(needsMessage);
  const list: Record<string, unknown>[] = [];
  const notFound: string[] = [];
  for (const id of new Set(ids)) {
    const record = listing.byId.get(id);
    const message = record && withMessage ? await ctx.message(record) : undefined;
    if (!record || (withMessage && !message)) {
      notFound.push(id);
      continue;
    }
    list.push(emailJson(record, message, properties, body));
  }
  return { accountId: ctx.accountId, state: listing.emailState, list, notFound };
}

function keywordOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(value) || /[()[\]{}%*"\\]/.test(value)) {
    throw invalidArguments(`${JSON.stringify(value)} is not a keyword`);
  }
  return value.toLowerCase();
}

function dateArg(value: unknown, name: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalidArguments(`${name} must be a UTCDate`);
  return ms;
}

function matcher(filter: unknown): (e: EmailRecord) => boolean {
  if (filter === undefined || filter === null) return () => true;
  if (!isObject(filter)) throw invalidArguments('filter must be an object');
  if ('operator' in filter) {
    if (!Array.isArray(filter.conditions)) throw invalidArguments('a FilterOperator needs conditions');
    const conditions = filter.conditions.map(matcher);
    switch (filter.operator) {
      case 'AND':
        return (e) => conditions.every((c) => c(e));
      case 'OR':
        return (e) => conditions.some((c) => c(e));
      case 'NOT':
        return (e) => !conditions.some((c) => c(e));
      default:
        throw new MethodError('unsupportedFilter', `unknown operator ${String(filter.operator)}`);
    }
  }
  const tests: ((e: EmailRecord) => boolean)[] = [];
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'inMailbox':
        if (typeof value !== 'string') throw invalidArguments('inMailbox must be an id');
        tests.push(() => value === INBOX_ID);
        break;
      case 'inMailboxOtherThan':
        if (!Array.isArray(value)) throw invalidArguments('inMailboxOtherThan must be an array of ids');
        tests.push(() => !value.includes(INBOX_ID));
        break;
      case 'hasKeyword': {
        const k = keywordOf(value);
        tests.push((e) => (e.keywords as readonly string[]).includes(k));
        break;
      }
      case 'notKeyword': {
        const k = keywordOf(value);
        tests.push((e) => !(e.keywords as readonly string[]).includes(k));
        break;
      }
      case 'before': {
        const ms = dateArg(value, key);
        tests.push((e) => e.receivedAt < ms);
        break;
      }
      case 'after': {
        const ms = dateArg(value, key);
        tests.push((e) => e.receivedAt >= ms);
        break;
      }
      case 'minSize':
      case 'maxSize': {
        if (typeof value !== 'number') throw invalidArguments(`${key} must be a number`);
        tests.push(key === 'minSize' ? (e) => e.size >= value : (e) => e.size < value);
        break;
      }
      default:
        throw new MethodError('unsupportedFilter', `filter property ${key} is not supported`);
    }
  }
  return (e) => tests.every((t) => t(e));
}

function comparator(sort: unknown): (a: EmailRecord, b: EmailRecord) => number {
  if (sort === undefined || sort === null) return (a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? -1 : 1);
  if (!Array.isArray(sort)) throw invalidArguments('sort must be an array');
  const keys = sort.map((s) => {
    if (!isObject(s)) throw invalidArguments('each sort entry must be a Comparator');
    if (s.property !== 'receivedAt' && s.property !== 'size') throw new MethodError('unsupportedSort', 'sort by receivedAt or size');
    const sign = s.isAscending === false ? -1 : 1;
    const property = s.property;
    return (a: EmailRecord, b: EmailRecord) => sign * (a[property] - b[property]);
  });
  return (a, b) => {
    for (const key of keys) {
      const d = key(a, b);
      if (d !== 0) return d;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

async function query(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const match = matcher(args.filter);
  const compare = comparator(args.sort);
  let position = optionalInt(args, 'position', 0, Number.MIN_SAFE_INTEGER)!;
  const anchor = optionalString(args, 'anchor');
  const anchorOffset = optionalInt(args, 'anchorOffset', 0, Number.MIN_SAFE_INTEGER)!;
  const limit = optionalInt(args, 'limit', undefined);
  const calculateTotal = optionalBoolean(args, 'calculateTotal', false);
  optionalBoolean(args, 'collapseThreads', false); // every thread has one email
  const listing = await ctx.listing();
  const all = listing.emails.filter(match).sort(compare).map((e) => e.id);
  if (anchor !== undefined) {
    const at = all.indexOf(anchor);
    if (at === -1) throw new MethodError('anchorNotFound');
    position = Math.max(0, at + anchorOffset);
  } else if (position < 0) {
    position = Math.max(0, all.length + position);
  }
  const capped = Math.min(limit ?? LIMITS.maxObjectsInGet, LIMITS.maxObjectsInGet);
  const ids = all.slice(position, position + capped);
  return {
    accountId: ctx.accountId,
    queryState: listing.emailState,
    canCalculateChanges: false,
    position: Math.min(position, all.length),
    ids,
    ...(calculateTotal ? { total: all.length } : {}),
    ...(limit === undefined || limit > capped ? (all.length - position > capped ? { limit: capped } : {}) : {}),
  };
}

async function changes(args: Record<string, unknown>, ctx: MethodContext, kind: 'Email' | 'Thread' = 'Email') {
  ctx.requireAccount(args);
  const since = optionalString(args, 'sinceState');
  if (since === undefined) throw invalidArguments('sinceState is required');
  const maxChanges = optionalInt(args, 'maxChanges', undefined, 1);
  const listing = await ctx.listing();
  const result = ctx.state.emailChanges(ctx.account, listing, since, maxChanges);
  if (!result) throw new MethodError('cannotCalculateChanges', 'that state is unknown or too old; get the emails again');
  if (kind === 'Thread') {
    // One email per thread: a thread exists exactly as long as its email; keywords do not change threads.
    const thread = (id: string) => `T${id.slice(1)}`;
    return { accountId: ctx.accountId, ...result, created: result.created.map(thread), updated: [], destroyed: result.destroyed.map(thread) };
  }
  return { accountId: ctx.accountId, ...result };
}

type Patch = { keywords: Set<string>; error?: Record<string, unknown> };

function applyPatch(record: EmailRecord, patch: unknown): Patch {
  const keywords = new Set<string>(record.keywords);
  if (!isObject(patch)) return { keywords, error: setError('invalidPatch', 'the patch must be an object') };
  const invalid = (property: string, description: string) => ({ keywords, error: setError('invalidProperties', description, { properties: [property] }) });
  for (const [path, value] of Object.entries(patch)) {
    const [head, ...rest] = path.split('/');
    const key = rest.join('/').replace(/~1/g, '/').replace(/~0/g, '~');
    if (head === 'keywords' && rest.length === 0) {
      if (!isObject(value) || !Object.values(value).every((v) => v === true)) return invalid(path, 'keywords must be an object of keyword: true');
      keywords.clear();
      for (const k of Object.keys(value)) keywords.add(k.toLowerCase());
    } else if (head === 'keywords' && rest.length > 0) {
      if (value === true) keywords.add(key.toLowerCase());
      else if (value === null) keywords.delete(key.toLowerCase());
      else return invalid(path, 'a keyword is set with true and removed with null');
    } else if (head === 'mailboxIds' && rest.length === 0) {
      if (!isObject(value) || Object.keys(value).length !== 1 || value[INBOX_ID] !== true) {
        return invalid(path, `every email is in the Inbox (mailboxIds {"${INBOX_ID}": true}); no other mailbox exists`);
      }
    } else if (head === 'mailboxIds' && rest.length > 0) {
      if (!(key === INBOX_ID && value === true)) return invalid(path, `every email stays in the Inbox ("${INBOX_ID}"); no other mailbox exists`);
    } else {
      return invalid(path, `${head} cannot be changed`);
    }
  }
  const unstorable = [...keywords].find((k) => !(STORED_KEYWORDS as readonly string[]).includes(k));
  if (unstorable !== undefined) return invalid('keywords', `keyword ${unstorable} cannot be stored (only ${STORED_KEYWORDS.join(', ')})`);
  return { keywords };
}

async function set(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const listing = await ctx.listing();
  const ifInState = optionalString(args, 'ifInState');
  if (ifInState !== undefined && ifInState !== listing.emailState) throw new MethodError('stateMismatch');
  if (args.create !== undefined && args.create !== null && !isObject(args.create)) throw invalidArguments('create must be an object');
  if (args.update !== undefined && args.update !== null && !isObject(args.update)) throw invalidArguments('update must be an object');
  const create = isObject(args.create) ? Object.keys(args.create) : [];
  const update = isObject(args.update) ? Object.entries(args.update) : [];
  const destroy = optionalStrings(args, 'destroy') ?? [];
  if (create.length + update.length + destroy.length > LIMITS.maxObjectsInSet) throw new MethodError('requestTooLarge', `at most ${LIMITS.maxObjectsInSet} objects`);
  const updated: Record<string, null> = {};
  const notUpdated: Record<string, unknown> = {};
  for (const [id, patch] of update) {
    const record = listing.byId.get(id);
    if (!record) {
      notUpdated[id] = setError('notFound', 'no such email');
      continue;
    }
    const result = applyPatch(record, patch);
    if (result.error) {
      notUpdated[id] = result.error;
      continue;
    }
    const next = [...result.keywords].sort() as StoredKeyword[];
    if (next.join(',') !== record.keywords.join(',') && !(await ctx.mailbox.setKeywords(ctx.account, record.storeId, next))) {
      notUpdated[id] = setError('notFound', 'the email is gone');
      continue;
    }
    updated[id] = null;
  }
  if (Object.keys(updated).length > 0) ctx.invalidate();
  const after = await ctx.listing();
  const refuse = (ids: string[], description: string) =>
    ids.length === 0 ? null : Object.fromEntries(ids.map((id) => [id, setError('forbidden', description)]));
  return {
    accountId: ctx.accountId,
    oldState: listing.emailState,
    newState: after.emailState,
    created: null,
    updated: Object.keys(updated).length > 0 ? updated : null,
    destroyed: null,
    notCreated: refuse(create, 'creating emails is not supported (mail arrives over SMTP)'),
    notUpdated: Object.keys(notUpdated).length > 0 ? notUpdated : null,
    notDestroyed: refuse(destroy, 'destroying emails is not supported here'),
  };
}

async function threadGet(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const listing = await ctx.listing();
  const ids = optionalStrings(args, 'ids') ?? listing.emails.map((e) => e.threadId);
  if (ids.length > LIMITS.maxObjectsInGet) throw new MethodError('requestTooLarge', `at most ${LIMITS.maxObjectsInGet} ids`);
  const byThread = new Map(listing.emails.map((e) => [e.threadId, e.id]));
  const list: Record<string, unknown>[] = [];
  const notFound: string[] = [];
  for (const id of new Set(ids)) {
    const emailId = byThread.get(id);
    if (emailId === undefined) notFound.push(id);
    else list.push({ id, emailIds: [emailId] });
  }
  return { accountId: ctx.accountId, state: listing.emailState, list, notFound };
}

const cannotCalculate = () => {
  throw new MethodError('cannotCalculateChanges', 'query again');
};

export const emailMethods: Record<string, MethodSpec> = {
  'Email/get': { capability: MAIL, run: get },
  'Email/query': { capability: MAIL, run: query },
  'Email/changes': { capability: MAIL, run: (args, ctx) => changes(args, ctx, 'Email') },
  'Email/queryChanges': { capability: MAIL, run: cannotCalculate },
  'Email/set': { capability: MAIL, run: set },
  'Thread/get': { capability: MAIL, run: threadGet },
  'Thread/changes': { capability: MAIL, run: (args, ctx) => changes(args, ctx, 'Thread') },
};
