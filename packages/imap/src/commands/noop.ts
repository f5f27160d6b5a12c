import { refresh } from '../mailbox-view.ts';
import type { CommandSpec } from './index.ts';

/** RFC 3501 6.1.2 / 6.4.1: NOOP and CHECK are where a polling client learns about new and expunged mail. */
export const noop: CommandSpec = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  async run(session, tag) {
    if (session.state === 'selected' && !(await refresh(session))) return session.send(`${tag} NO [UNAVAILABLE] Mailbox cannot be read right now`);
    session.send(`${tag} OK NOOP completed`);
  },
};

export const check: CommandSpec = {
  states: ['selected'],
  async run(session, tag) {
    // Every change is on disk when its command completes: CHECK has nothing to flush.
    if (!(await refresh(session))) return session.send(`${tag} NO [UNAVAILABLE] Mailbox cannot be read right now`);
    session.send(`${tag} OK CHECK completed`);
  },
};
