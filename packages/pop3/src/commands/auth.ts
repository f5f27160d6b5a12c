import type { SessionContext } from '../context.ts';
import { formatContinuation, R } from '../replies.ts';
import { failed, login, refusePlaintext } from './login.ts';

/**
 * RFC 5034 AUTH with the PLAIN mechanism (RFC 4616), with an initial response or after an empty `+ `
 * challenge; `*` cancels. Bare `AUTH` lists the mechanisms (what Outlook-era clients send).
 */
export async function auth(session: SessionContext, args: string): Promise<void> {
  if (refusePlaintext(session)) return;
  const [mechanism = '', initial, extra] = args.trim().split(/ +/);
  if (mechanism === '') return session.sendMultiline(R.mechanisms, ['PLAIN']);
  if (extra !== undefined) return session.send(R.syntax('AUTH mechanism [initial-response]'));
  if (mechanism.toUpperCase() !== 'PLAIN') return session.send(R.authMechanism);
  if (initial !== undefined) return plain(session, initial);
  session.write(formatContinuation(''));
  session.expectLine((line) => plain(session, line));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

async function plain(session: SessionContext, response: string): Promise<void> {
  if (response === '*') return session.send(R.authCancelled);
  // RFC 5034 4: "=" is an empty initial response.
  const text = response === '=' ? '' : response;
  if (!BASE64.test(text)) return session.send(R.badBase64);
  const parts = Buffer.from(text, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return failed(session, '', 'malformed PLAIN response');
  const [authzid = '', authcid = '', password = ''] = parts;
  if (authzid !== '' && authzid.trim().toLowerCase() !== authcid.trim().toLowerCase()) {
    return failed(session, authcid, 'authorization identity differs');
  }
  await login(session, authcid, password);
}
