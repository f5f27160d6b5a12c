import { defineError } from '@portico/core';

export const ERR_OPTIONS = defineError(
  'PORTICO_ERR_SMTP_OPTIONS',
  (what: string) => `smtp session options: ${what}`,
);
