import { defineError } from '@portico/core';

/** Only wiring mistakes throw; everything a client does ends in a reply. */
export const ERR_OPTIONS = defineError(
  'PORTICO_ERR_IMAP_OPTIONS',
  (what: string) => `imap session options: ${what}`,
);
