import { defineError } from '@portico/core';

export const ERR_INVALID_ADDRESS = defineError(
  'PORTICO_ERR_STORE_INVALID_ADDRESS',
  (address: string) => `${JSON.stringify(address)} is not a mailbox address that can name a Maildir`,
);
export const ERR_DELIVERY_FAILED = defineError(
  'PORTICO_ERR_STORE_DELIVERY_FAILED',
  (address: string, reason: string) => `delivery to ${address} failed: ${reason}`,
);
export const ERR_MESSAGE_NOT_FOUND = defineError(
  'PORTICO_ERR_STORE_MESSAGE_NOT_FOUND',
  (address: string, id: string) => `no message ${JSON.stringify(id)} in the Maildir of ${address}`,
);
export const ERR_INVALID_MESSAGE_ID = defineError(
  'PORTICO_ERR_STORE_INVALID_MESSAGE_ID',
  (id: string) => `${JSON.stringify(id)} is not a Maildir file name`,
);
export const ERR_PASSWORD_HASH_FORMAT = defineError(
  'PORTICO_ERR_STORE_PASSWORD_HASH_FORMAT',
  () => 'the password hash is not "$scrypt$N=...,r=...,p=...$<salt>$<hash>" (make one with `portico hash-password`)',
);
