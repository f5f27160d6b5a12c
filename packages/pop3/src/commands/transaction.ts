import type { SessionContext } from '../context.ts';
import type { Maildrop } from '../maildrop.ts';
import { parseNumber, uidOf } from '../maildrop.ts';
import { topOf } from '../multiline.ts';
import { R } from '../replies.ts';
import type { Reply } from '../replies.ts';
import type { Pop3MessageEntry } from '../types.ts';

/** The TRANSACTION commands of RFC 1939 5-7 (and UIDL, TOP); the dispatcher only runs them after login. */

function maildropOf(session: SessionContext): Maildrop {
  // The dispatcher runs these in TRANSACTION only, where login set the maildrop.
  return session.maildrop!;
}

/** The message an argument names, or the reply that says why there is none (sent by the caller). */
function message(session: SessionContext, arg: string | undefined): { n: number; entry: Pop3MessageEntry } | Reply {
  const n = parseNumber(arg);
  if (n === undefined) return R.syntax('message number expected');
  const maildrop = maildropOf(session);
  if (!maildrop.exists(n)) return R.noSuchMessage;
  const entry = maildrop.get(n);
  return entry ? { n, entry } : R.alreadyDeleted(n);
}

const isReply = (x: object): x is Reply => 'ok' in x;

function words(args: string): string[] {
  const trimmed = args.trim();
  return trimmed === '' ? [] : trimmed.split(/ +/);
}

export function stat(session: SessionContext, args: string): void {
  if (args.trim() !== '') return session.send(R.syntax('STAT takes no arguments'));
  const { count, size } = maildropOf(session).stat();
  session.send(R.stat(count, size));
}

export async function list(session: SessionContext, args: string): Promise<void> {
  const [arg, extra] = words(args);
  if (extra !== undefined) return session.send(R.syntax('LIST [message]'));
  if (arg !== undefined) {
    const found = message(session, arg);
    return session.send(isReply(found) ? found : R.listOne(found.n, found.entry.size));
  }
  const maildrop = maildropOf(session);
  const { count, size } = maildrop.stat();
  await session.sendMultiline(R.listAll(count, size), maildrop.visible().map((m) => `${m.n} ${m.entry.size}`));
}

export async function uidl(session: SessionContext, args: string): Promise<void> {
  const [arg, extra] = words(args);
  if (extra !== undefined) return session.send(R.syntax('UIDL [message]'));
  if (arg !== undefined) {
    const found = message(session, arg);
    return session.send(isReply(found) ? found : R.uidlOne(found.n, uidOf(found.entry.id)));
  }
  await session.sendMultiline(R.uidlAll, maildropOf(session).visible().map((m) => `${m.n} ${uidOf(m.entry.id)}`));
}

/** The message's bytes, or undefined after answering that it is gone (removed by another session). */
async function read(session: SessionContext, entry: Pop3MessageEntry): Promise<Buffer | undefined> {
  const bytes = await session.options.mailbox.read(session.account!, entry.id);
  if (bytes === undefined) session.send(R.messageGone, false);
  return bytes;
}

export async function retr(session: SessionContext, args: string): Promise<void> {
  const [arg, extra] = words(args);
  if (extra !== undefined) return session.send(R.syntax('RETR message'));
  const found = message(session, arg);
  if (isReply(found)) return session.send(found);
  const bytes = await read(session, found.entry);
  if (bytes) await session.sendMultiline(R.retr(bytes.length), bytes);
}

export async function top(session: SessionContext, args: string): Promise<void> {
  const [arg, lines, extra] = words(args);
  const count = parseNumber(lines, true);
  if (extra !== undefined || count === undefined) return session.send(R.syntax('TOP message lines'));
  const found = message(session, arg);
  if (isReply(found)) return session.send(found);
  const bytes = await read(session, found.entry);
  if (bytes) await session.sendMultiline(R.top, topOf(bytes, count));
}

export function dele(session: SessionContext, args: string): void {
  const [arg, extra] = words(args);
  if (extra !== undefined) return session.send(R.syntax('DELE message'));
  const found = message(session, arg);
  if (isReply(found)) return session.send(found);
  maildropOf(session).markDeleted(found.n);
  session.send(R.deleted(found.n));
}

export function noop(session: SessionContext, args: string): void {
  if (args.trim() !== '') return session.send(R.syntax('NOOP takes no arguments'));
  session.send(R.noop);
}

export function rset(session: SessionContext, args: string): void {
  if (args.trim() !== '') return session.send(R.syntax('RSET takes no arguments'));
  const maildrop = maildropOf(session);
  maildrop.reset();
  const { count, size } = maildrop.stat();
  session.send(R.rset(count, size));
}
