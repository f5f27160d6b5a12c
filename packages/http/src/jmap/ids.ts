import { createHash } from 'node:crypto';

/**
 * JMAP ids are 1-255 of [A-Za-z0-9_-] (RFC 8620 section 1.2). Store ids (Maildir file names) and
 * addresses are not, so ids are derived from them by hashing: stable, opaque, never reversible.
 */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 26);
}

export const accountIdOf = (address: string) => `a${digest(`account\0${address}`)}`;
export const emailIdOf = (storeId: string) => `M${digest(`email\0${storeId}`)}`;
export const threadIdOf = (storeId: string) => `T${digest(`email\0${storeId}`)}`;
/** The blob of the whole message. Part blobs append `_<partId>` with "." replaced by "_". */
export const blobIdOf = (storeId: string) => `B${digest(`email\0${storeId}`)}`;
export const MESSAGE_BLOB_ID_LENGTH = 27;
export const partBlobId = (messageBlobId: string, partId: string) => `${messageBlobId}_${partId.replace(/\./g, '_')}`;

export const INBOX_ID = 'inbox';

export function isJmapId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,255}$/.test(value);
}

/** A short state string from any text. */
export const stateOf = (text: string) => digest(`state\0${text}`).slice(0, 16);
