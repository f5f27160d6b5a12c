import { defineError } from '@portico/core';

/** A wiring mistake in the options handlePop3Session was given (never a client's doing). */
export const ERR_OPTIONS = defineError(
  'PORTICO_ERR_POP3_OPTIONS',
  (what: string) => `pop3 session options: ${what}`,
);
