import type { SessionContext } from '../context.ts';
import { R } from '../replies.ts';
import { login, refusePlaintext } from './login.ts';

/**
 * RFC 1939 7 USER/PASS. USER always answers +OK (whether the name exists is not revealed); the
 * session keeps the name only until the next command, which must be PASS.
 */
export function user(session: SessionContext, args: string): void {
  if (refusePlaintext(session)) return;
  const name = args.trim();
  if (name === '' || name.length > 320) return session.send(R.syntax('USER name'));
  session.pendingUser = name;
  session.send(R.userOk);
}

export async function pass(session: SessionContext, args: string): Promise<void> {
  if (refusePlaintext(session)) return;
  const name = session.pendingUser;
  session.pendingUser = undefined;
  if (name === undefined) return session.send(R.userFirst);
  // RFC 1939 7: the password is the rest of the line, spaces included.
  await login(session, name, args);
}
