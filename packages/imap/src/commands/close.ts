import type { SessionContext } from '../context.ts';
import { T } from '../responses.ts';
import { expungeDeleted } from './expunge.ts';
import type { CommandSpec } from './index.ts';

/** RFC 3501 6.4.2: CLOSE expunges silently (read-write only); UNSELECT (RFC 3691) does not. */
function leave(session: SessionContext): void {
  session.selected = undefined;
  session.state = 'authenticated';
}

export const close: CommandSpec = {
  states: ['selected'],
  async run(session, tag) {
    if (!session.selected!.readOnly && !(await expungeDeleted(session, false))) {
      // RFC 3501 6.4.2: the mailbox stays selected when CLOSE fails.
      return session.send(`${tag} ${T.mailboxUnavailable}`);
    }
    leave(session);
    session.send(`${tag} OK CLOSE completed`);
  },
};

export const unselect: CommandSpec = {
  states: ['selected'],
  run(session, tag) {
    leave(session);
    session.send(`${tag} OK UNSELECT completed`);
  },
};
