import type { SessionContext } from '../context.ts';
import { R, reply } from '../replies.ts';
import { finishData } from './data.ts';

const BDAT_ARGS = /^(\d{1,15})( +LAST)? *$/i;

/**
 * BDAT <size> [LAST] (RFC 3030 CHUNKING): exactly <size> octets follow the command, taken as they
 * are (no dot-stuffing, no end-of-data sequence, so nothing in them can end the message early).
 * The chunk is always read before the reply, also when it is refused, so that its bytes are never
 * taken for commands; a size we cannot parse leaves no way to skip the chunk, so the session closes.
 * Refusals of chunks do not count towards maxErrors: a client that pipelined several chunks gets one
 * refusal per chunk it had already sent (RFC 3030 2), which is not abuse.
 */
export function bdat(session: SessionContext, args: string): void {
  const match = BDAT_ARGS.exec(args);
  if (!match) return session.close('bad BDAT', reply(501, '5.5.4 Syntax error: expected BDAT <size> [LAST]; closing, the chunk cannot be skipped'));
  const size = Number(match[1]);
  const last = match[2] !== undefined;
  const tx = session.transaction;
  const fits = tx !== undefined && (tx.chunks?.size ?? 0) + size <= session.limits.maxMessageSize;
  const parts = fits && session.esmtp && tx.recipients.length > 0 ? (tx.chunks ??= { parts: [], size: 0 }).parts : undefined;
  session.readChunk(size, parts, async () => {
    // The transaction is checked after the read: the client sent the chunk whatever we answer.
    const current = session.transaction;
    if (!session.esmtp) return session.send(reply(503, '5.5.1 Send EHLO first: BDAT is an ESMTP extension'), false);
    if (!current) return session.send(R.mailFirst, false);
    if (current.recipients.length === 0) return session.send(R.noValidRecipients, false);
    const chunks = (current.chunks ??= { parts: [], size: 0 });
    chunks.size += size;
    if (chunks.size > session.limits.maxMessageSize) {
      // RFC 3030 2: 552 as soon as the message is too big; the client must stop sending chunks.
      session.transaction = undefined;
      session.conn.log.info({ size: chunks.size }, 'smtp: message too big');
      session.limitReached('message-too-big', `${chunks.size} bytes`);
      return session.send(R.sizeExceeded(session.limits.maxMessageSize), false);
    }
    if (!last) return session.send(reply(250, `2.0.0 ${size} octets received`));
    await finishData(session, { message: Buffer.concat(chunks.parts), size: chunks.size, tooBig: false, bareLineEnding: false });
  });
}
