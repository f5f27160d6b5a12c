import type { SessionContext } from '../context.ts';
import { R, reply } from '../replies.ts';
import { finishData } from './data.ts';

const BDAT_ARGS = /^(\d{1,15})( +LAST)? *$/i;

/**
 * BDAT <size> [LAST] (RFC 3030 CHUNKING): exactly <size> octets follow the command, taken as they
 * are (no dot-stuffing, no end-of-data sequence, so nothing in them can end the message early).
 * The chunk is always read before the reply, also when it is refused, so that its bytes are never
 * taken for commands; a size we cannot parse leaves no way to skip the chunk, so the session closes.
 */
export function bdat(session: SessionContext, args: string): void {
  const match = BDAT_ARGS.exec(args);
  if (!match) return session.close('bad BDAT', reply(501, '5.5.4 Syntax error: expected BDAT <size> [LAST]; closing, the chunk cannot be skipped'));
  const size = Number(match[1]);
  const last = match[2] !== undefined;
  const tx = session.transaction;
  const chunks = tx?.chunks;
  const keep = tx !== undefined && tx.recipients.length > 0 && (chunks?.size ?? 0) + size <= session.limits.maxMessageSize;
  session.readChunk(size, keep, async (bytes) => {
    // The transaction is checked after the read: the client sent the chunk whatever we answer.
    const current = session.transaction;
    if (!session.helo) return session.send(R.heloFirst);
    if (!current) return session.send(R.mailFirst);
    if (current.recipients.length === 0) return session.send(R.noValidRecipients);
    const state = (current.chunks ??= { parts: [], size: 0, tooBig: false });
    state.size += size;
    if (state.size > session.limits.maxMessageSize || bytes === undefined) {
      state.tooBig = true;
      state.parts = [];
    } else {
      state.parts.push(bytes);
    }
    if (!last) return session.send(reply(250, `2.0.0 ${size} octets received`));
    const message = state.tooBig ? Buffer.alloc(0) : Buffer.concat(state.parts);
    await finishData(session, { message, size: state.size, tooBig: state.tooBig, bareLineEnding: false, rest: Buffer.alloc(0) });
  });
}
