import type { SessionContext } from '../context.ts';
import { T } from '../responses.ts';
import type { CommandSpec } from './index.ts';
import { failed, verifyLogin } from './verify-login.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * RFC 3501 6.2.2 with PLAIN (RFC 4616) only, encrypted only. The response comes after a `+ `
 * continuation; an initial response on the command line (RFC 4959) is accepted too.
 */
export const authenticate: CommandSpec = {
  states: ['not-authenticated'],
  async run(session, tag, args) {
    const mechanism = args[0]?.kind === 'atom' ? args[0].value.toUpperCase() : undefined;
    if (!mechanism || args.length > 2) return session.send(`${tag} BAD Expected AUTHENTICATE mechanism`);
    if (!session.encrypted) return session.send(`${tag} ${T.privacyRequired}`);
    if (mechanism !== 'PLAIN') return session.send(`${tag} NO [CANNOT] Only AUTHENTICATE PLAIN is supported`);
    const initial = args[1];
    if (initial) return plain(session, tag, initial.kind === 'list' ? '' : initial.value);
    session.send('+ ');
    session.expectLine(
      (line) => plain(session, tag, line),
      (reason) => session.send(`${tag} BAD ${reason}`),
    );
  },
};

async function plain(session: SessionContext, tag: string, response: string): Promise<void> {
  if (response === '*') return session.send(`${tag} BAD Authentication cancelled`);
  if (!BASE64.test(response) && response !== '=') return session.send(`${tag} BAD Cannot decode the response`);
  const parts = (response === '=' ? '' : Buffer.from(response, 'base64').toString('utf8')).split('\0');
  if (parts.length !== 3) return session.send(`${tag} BAD Malformed PLAIN response`);
  const [authzid = '', authcid = '', password = ''] = parts;
  if (authzid !== '' && authzid.trim().toLowerCase() !== authcid.trim().toLowerCase()) return failed(session, tag, authcid, 'authorization identity differs');
  await verifyLogin(session, tag, authcid, password);
}
