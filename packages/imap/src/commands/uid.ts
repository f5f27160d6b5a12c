import { runFetch } from './fetch.ts';
import type { CommandSpec } from './index.ts';
import { runSearch } from './search.ts';
import { runStore } from './store.ts';

/** RFC 3501 6.4.8: UID FETCH, UID STORE, UID SEARCH (no COPY: one mailbox). */
export const uid: CommandSpec = {
  states: ['selected'],
  async run(session, tag, args) {
    const sub = args[0]?.kind === 'atom' ? args[0].value.toUpperCase() : '';
    const rest = args.slice(1);
    if (sub === 'FETCH') return runFetch(session, tag, rest, true);
    if (sub === 'STORE') return runStore(session, tag, rest, true);
    if (sub === 'SEARCH') return runSearch(session, tag, rest, true);
    if (sub === 'COPY' || sub === 'MOVE' || sub === 'EXPUNGE') return session.send(`${tag} NO [CANNOT] UID ${sub} is not supported`);
    session.send(`${tag} BAD Expected UID FETCH, STORE or SEARCH`);
  },
};
