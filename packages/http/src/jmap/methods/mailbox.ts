import { MAIL } from '../context.ts';
import type { MethodContext } from '../context.ts';
import type { MethodSpec } from '../dispatch.ts';
import { MethodError, invalidArguments, setError } from '../errors.ts';
import { INBOX_ID } from '../ids.ts';
import { isObject, optionalInt, optionalString, optionalStrings } from '../args.ts';
import type { Listing } from '../state.ts';

/** Mailbox/get, /query, /changes, /queryChanges, /set (RFC 8621 section 2): one Inbox per account. */

const PROPERTIES = ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads', 'myRights', 'isSubscribed'];
const COUNTS = ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'];

function inbox(listing: Listing): Record<string, unknown> {
  return {
    id: INBOX_ID,
    name: 'Inbox',
    parentId: null,
    role: 'inbox',
    sortOrder: 0,
    totalEmails: listing.total,
    unreadEmails: listing.unread,
    totalThreads: listing.total,
    unreadThreads: listing.unread,
    myRights: {
      mayReadItems: true,
      mayAddItems: false,
      mayRemoveItems: false,
      maySetSeen: true,
      maySetKeywords: true,
      mayCreateChild: false,
      mayRename: false,
      mayDelete: false,
      maySubmit: false,
    },
    isSubscribed: true,
  };
}

async function get(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const ids = optionalStrings(args, 'ids');
  const properties = optionalStrings(args, 'properties') ?? PROPERTIES;
  const unknown = properties.find((p) => !PROPERTIES.includes(p));
  if (unknown !== undefined) throw invalidArguments(`unknown property ${unknown}`);
  const listing = await ctx.listing();
  const full = inbox(listing);
  const wanted = ids ?? [INBOX_ID];
  const list = wanted.includes(INBOX_ID) ? [Object.fromEntries(['id', ...properties].map((p) => [p, full[p]]))] : [];
  return { accountId: ctx.accountId, state: listing.mailboxState, list, notFound: [...new Set(wanted.filter((id) => id !== INBOX_ID))] };
}

function matches(filter: unknown): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isObject(filter)) throw invalidArguments('filter must be an object');
  if ('operator' in filter) {
    const conditions = filter.conditions;
    if (!Array.isArray(conditions)) throw invalidArguments('a FilterOperator needs conditions');
    const results = conditions.map(matches);
    switch (filter.operator) {
      case 'AND':
        return results.every(Boolean);
      case 'OR':
        return results.some(Boolean);
      case 'NOT':
        return !results.some(Boolean);
      default:
        throw new MethodError('unsupportedFilter', `unknown operator ${String(filter.operator)}`);
    }
  }
  let ok = true;
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'parentId':
        ok &&= value === null;
        break;
      case 'name':
        ok &&= typeof value === 'string' && 'inbox'.includes(value.toLowerCase());
        break;
      case 'role':
        ok &&= value === 'inbox';
        break;
      case 'hasAnyRole':
        ok &&= value === true;
        break;
      case 'isSubscribed':
        ok &&= value === true;
        break;
      default:
        throw new MethodError('unsupportedFilter', `filter property ${key} is not supported`);
    }
  }
  return ok;
}

async function query(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const sort = args.sort ?? [];
  if (!Array.isArray(sort)) throw invalidArguments('sort must be an array');
  for (const s of sort) {
    if (!isObject(s) || !['sortOrder', 'name'].includes(String(s.property))) throw new MethodError('unsupportedSort', 'sort by sortOrder or name');
  }
  const position = optionalInt(args, 'position', 0, Number.MIN_SAFE_INTEGER)!;
  const limit = optionalInt(args, 'limit', undefined);
  const listing = await ctx.listing();
  const all = matches(args.filter) ? [INBOX_ID] : [];
  const start = position < 0 ? Math.max(0, all.length + position) : position;
  const ids = all.slice(start, limit === undefined ? undefined : start + limit);
  return {
    accountId: ctx.accountId,
    queryState: listing.mailboxState,
    canCalculateChanges: false,
    position: Math.min(start, all.length),
    ids,
    ...(args.calculateTotal === true ? { total: all.length } : {}),
  };
}

async function changes(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const since = optionalString(args, 'sinceState');
  if (since === undefined) throw invalidArguments('sinceState is required');
  optionalInt(args, 'maxChanges', undefined, 1);
  const listing = await ctx.listing();
  const same = since === listing.mailboxState;
  if (!same && !ctx.state.knowsMailboxState(ctx.account, since)) throw new MethodError('cannotCalculateChanges', 'that state is unknown or too old; get the mailboxes again');
  return {
    accountId: ctx.accountId,
    oldState: since,
    newState: listing.mailboxState,
    hasMoreChanges: false,
    created: [],
    updated: same ? [] : [INBOX_ID],
    destroyed: [],
    // Only the counts change: the Inbox itself cannot be renamed or removed.
    updatedProperties: same ? null : COUNTS,
  };
}

async function set(args: Record<string, unknown>, ctx: MethodContext) {
  ctx.requireAccount(args);
  const listing = await ctx.listing();
  const ifInState = optionalString(args, 'ifInState');
  if (ifInState !== undefined && ifInState !== listing.mailboxState) throw new MethodError('stateMismatch');
  const forbidden = (what: string) => setError('forbidden', `mailboxes cannot be ${what} here: every account has one Inbox`);
  const create = isObject(args.create) ? Object.keys(args.create) : [];
  const update = isObject(args.update) ? Object.keys(args.update) : [];
  const destroy = optionalStrings(args, 'destroy') ?? [];
  const map = (ids: string[], what: string) => (ids.length === 0 ? null : Object.fromEntries(ids.map((id) => [id, forbidden(what)])));
  return {
    accountId: ctx.accountId,
    oldState: listing.mailboxState,
    newState: listing.mailboxState,
    created: null,
    updated: null,
    destroyed: null,
    notCreated: map(create, 'created'),
    notUpdated: map(update, 'changed'),
    notDestroyed: map(destroy, 'destroyed'),
  };
}

export const mailboxMethods: Record<string, MethodSpec> = {
  'Mailbox/get': { capability: MAIL, run: get },
  'Mailbox/query': { capability: MAIL, run: query },
  'Mailbox/changes': { capability: MAIL, run: changes },
  'Mailbox/queryChanges': {
    capability: MAIL,
    run: () => {
      throw new MethodError('cannotCalculateChanges', 'query again');
    },
  },
  'Mailbox/set': { capability: MAIL, run: set },
};
