import { defineError } from '@portico/core';

export const ERR_VERIFY_MODE = defineError(
  'PORTICO_ERR_MAILAUTH_VERIFY_MODE',
  (key: string, value: string) => `mail-auth.${key}.verify is ${JSON.stringify(value)}; expected "relaxed", "strict" or "disable"`,
);
export const ERR_NAMESERVER = defineError(
  'PORTICO_ERR_MAILAUTH_NAMESERVER',
  (value: string, reason: string) => `resolver nameserver ${JSON.stringify(value)} is not usable: ${reason}`,
);
