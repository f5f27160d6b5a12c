import type { Pop3State, SessionContext } from '../context.ts';
import { auth } from './auth.ts';
import { capa } from './capa.ts';
import { quit } from './quit.ts';
import { stls } from './stls.ts';
import { dele, list, noop, retr, rset, stat, top, uidl } from './transaction.ts';
import { pass, user } from './user.ts';

export type CommandHandler = (session: SessionContext, args: string) => Promise<void> | void;

export interface Command {
  /** The states the command is valid in (RFC 1939 3); elsewhere it is answered "-ERR Command not valid in this state". */
  readonly states: readonly Pop3State[];
  readonly run: CommandHandler;
}

const AUTHORIZATION: readonly Pop3State[] = ['authorization'];
const TRANSACTION: readonly Pop3State[] = ['transaction'];
const ANY: readonly Pop3State[] = ['authorization', 'transaction'];

export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['CAPA', { states: ANY, run: capa }],
  ['QUIT', { states: ANY, run: quit }],
  ['STLS', { states: AUTHORIZATION, run: stls }],
  ['USER', { states: AUTHORIZATION, run: user }],
  ['PASS', { states: AUTHORIZATION, run: pass }],
  ['AUTH', { states: AUTHORIZATION, run: auth }],
  ['STAT', { states: TRANSACTION, run: stat }],
  ['LIST', { states: TRANSACTION, run: list }],
  ['UIDL', { states: TRANSACTION, run: uidl }],
  ['RETR', { states: TRANSACTION, run: retr }],
  ['TOP', { states: TRANSACTION, run: top }],
  ['DELE', { states: TRANSACTION, run: dele }],
  ['NOOP', { states: TRANSACTION, run: noop }],
  ['RSET', { states: TRANSACTION, run: rset }],
]);
