import { astring } from '../parser.ts';
import { T } from '../responses.ts';
import type { CommandSpec } from './index.ts';
import { verifyLogin } from './verify-login.ts';

/** RFC 3501 6.2.3: `LOGIN user password`, each an atom, quoted string or literal; encrypted only. */
export const login: CommandSpec = {
  states: ['not-authenticated'],
  async run(session, tag, args) {
    if (!session.encrypted) return session.send(`${tag} ${T.privacyRequired}`);
    const user = astring(args[0]);
    const password = astring(args[1]);
    if (user === undefined || password === undefined || args.length !== 2) return session.send(`${tag} BAD Expected LOGIN user password`);
    await verifyLogin(session, tag, user, password);
  },
};
