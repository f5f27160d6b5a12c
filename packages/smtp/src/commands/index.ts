import type { SessionContext } from '../context.ts';
import { auth } from './auth.ts';
import { expn, help, noop, quit, rset, vrfy } from './basic.ts';
import { bdat } from './bdat.ts';
import { data } from './data.ts';
import { ehlo, helo } from './helo.ts';
import { mail } from './mail.ts';
import { rcpt } from './rcpt.ts';
import { starttls } from './starttls.ts';

export type CommandHandler = (session: SessionContext, args: string) => Promise<void> | void;

export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ['EHLO', ehlo],
  ['HELO', helo],
  ['MAIL', mail],
  ['RCPT', rcpt],
  ['DATA', data],
  ['BDAT', bdat],
  ['RSET', rset],
  ['NOOP', noop],
  ['QUIT', quit],
  ['VRFY', vrfy],
  ['EXPN', expn],
  ['HELP', help],
  ['STARTTLS', starttls],
  ['AUTH', auth],
]);
