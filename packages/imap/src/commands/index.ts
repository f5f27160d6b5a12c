import type { ImapState, SessionContext } from '../context.ts';
import type { Token } from '../parser.ts';
import { capability } from './capability.ts';
import { noop, check } from './noop.ts';
import { logout } from './logout.ts';
import { starttls } from './starttls.ts';
import { login } from './login.ts';
import { authenticate } from './authenticate.ts';
import { select, examine } from './select.ts';
import { list, lsub } from './list.ts';
import { status } from './status.ts';
import { fetch } from './fetch.ts';
import { store } from './store.ts';
import { search } from './search.ts';
import { uid } from './uid.ts';
import { expunge } from './expunge.ts';
import { close, unselect } from './close.ts';
import { unsupported } from './unsupported.ts';

/** One command (as in WildDuck's imap-core): the states it is valid in, and what it does. */
export interface CommandSpec {
  readonly states: readonly ImapState[];
  run(session: SessionContext, tag: string, args: readonly Token[]): Promise<void> | void;
}

export const ANY: readonly ImapState[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: readonly ImapState[] = ['authenticated', 'selected'];
export const SELECTED: readonly ImapState[] = ['selected'];

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['CAPABILITY', capability],
  ['NOOP', noop],
  ['LOGOUT', logout],
  ['STARTTLS', starttls],
  ['LOGIN', login],
  ['AUTHENTICATE', authenticate],
  ['SELECT', select],
  ['EXAMINE', examine],
  ['LIST', list],
  ['LSUB', lsub],
  ['STATUS', status],
  ['CHECK', check],
  ['CLOSE', close],
  ['UNSELECT', unselect],
  ['EXPUNGE', expunge],
  ['FETCH', fetch],
  ['STORE', store],
  ['SEARCH', search],
  ['UID', uid],
  ...['CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'APPEND', 'COPY', 'IDLE'].map((name) => [name, unsupported] as [string, CommandSpec]),
]);
