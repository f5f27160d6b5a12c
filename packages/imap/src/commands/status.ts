import { isInbox } from '../mailbox-view.ts';
import { astring } from '../parser.ts';
import { T } from '../responses.ts';
import type { CommandSpec } from './index.ts';

/** RFC 3501 6.3.10: MESSAGES, RECENT (always 0), UIDNEXT, UIDVALIDITY, UNSEEN. */
export const status: CommandSpec = {
  states: ['authenticated', 'selected'],
  async run(session, tag, args) {
    const name = astring(args[0]);
    const items = args[1];
    if (name === undefined || !items || items.kind !== 'list' || items.items.length === 0 || args.length !== 2) {
      return session.send(`${tag} BAD Expected STATUS mailbox (items)`);
    }
    if (!isInbox(name)) return session.send(`${tag} ${T.nonexistent}`);
    let state;
    try {
      state = await session.options.mailbox.list(session.account!);
    } catch {
      return session.send(`${tag} ${T.mailboxUnavailable}`);
    }
    const values: Record<string, number> = {
      MESSAGES: state.messages.length,
      RECENT: 0,
      UIDNEXT: state.uidNext,
      UIDVALIDITY: state.uidValidity,
      UNSEEN: state.messages.filter((m) => !m.flags.includes('\\Seen')).length,
    };
    const out: string[] = [];
    for (const item of items.items) {
      const key = item.kind === 'atom' ? item.value.toUpperCase() : '';
      if (values[key] === undefined) return session.send(`${tag} BAD Unknown STATUS item`);
      out.push(`${key} ${values[key]}`);
    }
    session.send(`* STATUS INBOX (${out.join(' ')})`);
    session.send(`${tag} OK STATUS completed`);
  },
};
