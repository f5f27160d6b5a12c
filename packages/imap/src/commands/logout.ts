import type { CommandSpec } from './index.ts';

/** RFC 3501 6.1.3: the untagged BYE comes before the tagged OK. */
export const logout: CommandSpec = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  run(session, tag) {
    session.send(`* BYE ${session.options.hostname} IMAP4rev1 Portico logging out`);
    session.send(`${tag} OK LOGOUT completed`);
    session.close('logout');
  },
};
