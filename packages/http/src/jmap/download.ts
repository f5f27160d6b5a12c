import type { FastifyReply } from 'fastify';
import { findPart } from './email-view.ts';
import type { MethodContext } from './context.ts';
import { sendProblem } from './errors.ts';
import { MESSAGE_BLOB_ID_LENGTH } from './ids.ts';

/** GET {downloadUrl}: the raw message (blobId of an Email) or one decoded body part (its part blobId). */

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64}$/;

export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

export async function sendBlob(reply: FastifyReply, ctx: MethodContext, blobId: string, name: string, accept: string | undefined): Promise<FastifyReply> {
  const notFound = () => sendProblem(reply, { type: 'about:blank', status: 404, title: 'Not Found', detail: 'No such blob in this account.' });
  // "B" + 26 characters of hash (which may contain "_" itself), then "_<partId with _ for .>" for a part.
  const messageBlobId = blobId.slice(0, MESSAGE_BLOB_ID_LENGTH);
  const rest = blobId.slice(MESSAGE_BLOB_ID_LENGTH);
  if (rest !== '' && !rest.startsWith('_')) return notFound();
  const partPath = rest === '' ? [] : rest.slice(1).split('_');
  const listing = await ctx.listing();
  const record = listing.emails.find((e) => e.blobId === messageBlobId);
  if (!record) return notFound();
  let bytes: Buffer | undefined;
  let type = 'message/rfc822';
  if (partPath.length === 0) {
    bytes = await ctx.mailbox.read(ctx.account, record.storeId);
  } else {
    const message = await ctx.message(record);
    const part = message ? findPart(message.root, partPath.join('.')) : undefined;
    bytes = part?.content;
    if (part) type = part.type + (part.type.startsWith('text/') && part.charset ? `; charset=${part.charset.replace(/[^A-Za-z0-9_.:-]/g, '')}` : '');
  }
  if (bytes === undefined) return notFound();
  return reply
    .code(200)
    .header('content-type', accept !== undefined && MEDIA_TYPE.test(accept) ? accept : type)
    .header('content-disposition', contentDisposition(name))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', 'private, immutable, max-age=31536000')
    .send(bytes);
}
