import type { CommandSpec } from './index.ts';

/**
 * Valid IMAP4rev1 commands Portico does not do (one INBOX, no folders, no APPEND/COPY, no IDLE):
 * a NO, not a BAD, so that honest clients are not counted towards maxErrors.
 */
export const unsupported: CommandSpec = {
  states: ['authenticated', 'selected'],
  run(session, tag) {
    session.send(`${tag} NO [CANNOT] Not supported: Portico serves one INBOX and no other mailboxes`);
  },
};
