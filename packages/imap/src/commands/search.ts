import type { SessionContext } from '../context.ts';
import type { Token } from '../parser.ts';
import { inSequenceSet, parseSequenceSet } from '../sequence.ts';
import type { ImapMessage, SystemFlag } from '../types.ts';
import type { CommandSpec } from './index.ts';

/**
 * RFC 3501 6.4.4, the flag keys only: ALL, SEEN, UNSEEN, DELETED, UNDELETED, FLAGGED, UNFLAGGED,
 * ANSWERED, UNANSWERED, DRAFT, UNDRAFT, a sequence set, UID set, NOT key, OR key key; keys given
 * together must all match. Text, date and size keys answer NO [CANNOT] (they would need a parser
 * for every message).
 */
type Matcher = (m: ImapMessage, seq: number) => boolean;

const FLAG_KEYS: Record<string, [SystemFlag, boolean]> = {
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
};

class Unsupported extends Error {}

/** Deepest nesting of lists, NOT and OR in one search: deeper ones are BAD (and the stack is safe). */
export const MAX_SEARCH_DEPTH = 32;

export function compileSearch(tokens: readonly Token[], count: number, maxUid: number, depth = 0): Matcher {
  let pos = 0;
  const nested = (): Matcher => {
    if (depth >= MAX_SEARCH_DEPTH) throw new SyntaxError('Search keys nested too deeply');
    depth++;
    try {
      return next();
    } finally {
      depth--;
    }
  };
  const next = (): Matcher => {
    const token = tokens[pos++];
    if (!token) throw new SyntaxError('Missing search key');
    if (token.kind === 'list') {
      if (depth >= MAX_SEARCH_DEPTH) throw new SyntaxError('Search keys nested too deeply');
      return compileSearch(token.items, count, maxUid, depth + 1);
    }
    if (token.kind !== 'atom') throw new SyntaxError('Unexpected string in search');
    const key = token.value.toUpperCase();
    if (key === 'ALL') return () => true;
    const flag = FLAG_KEYS[key];
    if (flag) return (m) => m.flags.includes(flag[0]) === flag[1];
    if (key === 'NOT') {
      const a = nested();
      return (m, s) => !a(m, s);
    }
    if (key === 'OR') {
      const a = nested();
      const b = nested();
      return (m, s) => a(m, s) || b(m, s);
    }
    if (key === 'UID') {
      const set = tokens[pos++];
      const ranges = set?.kind === 'atom' ? parseSequenceSet(set.value, maxUid) : undefined;
      if (!ranges) throw new SyntaxError('Expected a UID set');
      return (m) => inSequenceSet(ranges, m.uid);
    }
    const ranges = parseSequenceSet(token.value, count);
    if (ranges) return (_m, s) => inSequenceSet(ranges, s);
    throw new Unsupported(`Search key ${key.slice(0, 30)} is not supported (only flags, sequence and UID sets)`);
  };
  const all: Matcher[] = [];
  while (pos < tokens.length) all.push(next());
  if (all.length === 0) throw new SyntaxError('Missing search key');
  return (m, s) => all.every((f) => f(m, s));
}

export async function runSearch(session: SessionContext, tag: string, args: readonly Token[], byUid: boolean): Promise<void> {
  const verb = byUid ? 'UID SEARCH' : 'SEARCH';
  let keys = args;
  // CHARSET only matters for string keys, which are not supported: US-ASCII and UTF-8 are accepted.
  if (keys[0]?.kind === 'atom' && keys[0].value.toUpperCase() === 'CHARSET') {
    const charset = keys[1]?.kind === 'list' ? '' : (keys[1]?.value ?? '').toUpperCase();
    if (charset !== 'US-ASCII' && charset !== 'UTF-8') return session.send(`${tag} NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset`);
    keys = keys.slice(2);
  }
  const messages = session.selected!.messages;
  let match: Matcher;
  try {
    match = compileSearch(keys, messages.length, messages.at(-1)?.uid ?? 0);
  } catch (error) {
    if (error instanceof Unsupported) return session.send(`${tag} NO [CANNOT] ${error.message}`);
    return session.send(`${tag} BAD ${(error as Error).message}`);
  }
  const found = messages.flatMap((m, i) => (match(m, i + 1) ? [byUid ? m.uid : i + 1] : []));
  session.send(`* SEARCH${found.map((n) => ` ${n}`).join('')}`);
  session.send(`${tag} OK ${verb} completed`);
}

export const search: CommandSpec = { states: ['selected'], run: (s, tag, args) => runSearch(s, tag, args, false) };
