import type { SessionContext } from '../context.ts';
import { resolveSet } from '../mailbox-view.ts';
import type { Token } from '../parser.ts';
import { formatFlags, T } from '../responses.ts';
import { SYSTEM_FLAGS } from '../types.ts';
import type { SystemFlag } from '../types.ts';
import type { CommandSpec } from './index.ts';

const MODE = /^([+-]?)FLAGS(\.SILENT)?$/i;

/**
 * RFC 3501 6.4.6 / 6.4.8: FLAGS, +FLAGS, -FLAGS (.SILENT) with the five system flags. Keywords and
 * \Recent cannot be stored (PERMANENTFLAGS says so) and are ignored, as RFC 3501 2.3.2 allows.
 */
export async function runStore(session: SessionContext, tag: string, args: readonly Token[], byUid: boolean): Promise<void> {
  const verb = byUid ? 'UID STORE' : 'STORE';
  const targets = resolveSet(session, args[0], byUid);
  const mode = args[1]?.kind === 'atom' ? MODE.exec(args[1].value) : null;
  const given = args.length === 3 && args[2]!.kind === 'list' ? args[2]!.items : args.slice(2);
  if (!targets || !mode || args.length < 3) return session.send(`${tag} BAD Expected ${verb} sequence-set [+-]FLAGS[.SILENT] (flags)`);
  if (given.some((t) => t.kind !== 'atom')) return session.send(`${tag} BAD Flags are atoms`);
  const selected = session.selected!;
  if (selected.readOnly) return session.send(`${tag} ${T.readOnly}`);
  const flags = new Set<SystemFlag>();
  for (const t of given) {
    const known = SYSTEM_FLAGS.find((f) => f.toLowerCase() === (t as { value: string }).value.toLowerCase());
    if (known) flags.add(known);
  }
  const silent = mode[2] !== undefined;
  for (const { seq, message } of targets) {
    const next = SYSTEM_FLAGS.filter((f) => (mode[1] === '+' ? message.flags.includes(f) || flags.has(f) : mode[1] === '-' ? message.flags.includes(f) && !flags.has(f) : flags.has(f)));
    if (next.join() !== SYSTEM_FLAGS.filter((f) => message.flags.includes(f)).join()) {
      let stored;
      try {
        stored = await session.options.mailbox.setFlags(session.account!, message.uid, next);
      } catch (error) {
        session.conn.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'imap: storing flags failed');
        return session.send(`${tag} ${T.mailboxUnavailable}`);
      }
      // Gone meanwhile: the next NOOP reports the expunge.
      if (!stored) continue;
      selected.messages[seq - 1] = { ...message, flags: next };
    }
    if (!silent) session.send(`* ${seq} FETCH (${byUid ? `UID ${message.uid} ` : ''}FLAGS ${formatFlags(next)})`);
  }
  session.send(`${tag} OK ${verb} completed`);
}

export const store: CommandSpec = { states: ['selected'], run: (s, tag, args) => runStore(s, tag, args, false) };
