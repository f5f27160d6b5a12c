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

/**
 * `*` matches anything, `%` anything but the delimiter; case-insensitive (INBOX is the only name).
 * A set-of-states walk (no backtracking): O(pattern x name), whatever the wildcards.
 */
export function matches(pattern: string, name: string): boolean {
  const n = [...name].map((c) => c.toUpperCase());
  let reach: boolean[] = [true, ...n.map(() => false)];
  for (const ch of pattern) {
    const next: boolean[] = n.map(() => false).concat(false);
    if (ch === '*' || ch === '%') {
      let on = false;
      for (let j = 0; j <= n.length; j++) {
        on = reach[j]! || (on && (ch === '*' || n[j - 1] !== '/'));
        next[j] = on;
      }
    } else {
      const c = ch.toUpperCase();
      for (let j = 0; j < n.length; j++) if (reach[j] && n[j] === c) next[j + 1] = true;
    }
    reach = next;
    if (!reach.includes(true)) return false;
  }
  return reach[n.length]!;
}

export const list: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => run(s, tag, args, 'LIST') };
export const lsub: CommandSpec = { states: ['authenticated', 'selected'], run: (s, tag, args) => run(s, tag, args, 'LSUB') };
