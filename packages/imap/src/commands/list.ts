import type { SessionContext } from '../context.ts';
import { astring } from '../parser.ts';
import type { Token } from '../parser.ts';
import type { CommandSpec } from './index.ts';

/** RFC 3501 6.3.8 / 6.3.9 over the one mailbox, INBOX; hierarchy delimiter "/". */
function run(session: SessionContext, tag: string, args: readonly Token[], verb: 'LIST' | 'LSUB'): void {
  const reference = astring(args[0]);
  const pattern = astring(args[1]);
  if (reference === undefined || pattern === undefined || args.length !== 2) return session.send(`${tag} BAD Expected ${verb} reference pattern`);
  // LIST "" "": the hierarchy delimiter and root (RFC 3501 6.3.8).
  if (pattern === '' && verb === 'LIST') {
    session.send('* LIST (\\Noselect) "/" ""');
  } else if (matches(reference + pattern, 'INBOX')) {
    session.send(`* ${verb} (\\HasNoChildren) "/" INBOX`);
  }
  session.send(`${tag} OK ${verb} completed`);
}

/** `*` matches anything, `%` anything but the delimiter; INBOX is case-insensitive. */
export function matches(pattern: string, name: string): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '%' ? '[^/]*' : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 'i').test(name);
}

export const list: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => run(s, tag, args, 'LIST') };
export const lsub: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => run(s, tag, args, 'LSUB') };
