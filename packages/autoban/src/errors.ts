import { defineError, DURATION_HINT, RATE_HINT } from '@portico/core';

/** The auto-ban catalogue (documented in ../README.md). */

export const ERR_AUTOBAN_INVALID_ADDRESS = defineError(
  'PORTICO_ERR_AUTOBAN_INVALID_ADDRESS',
  (address: string) =>
    `${JSON.stringify(address)} is not an IP address; write one address in canonical form, e.g. "192.0.2.7" or "2001:db8::7" (no port, no prefix, no brackets)`,
);

export const ERR_AUTOBAN_INVALID_DURATION = defineError(
  'PORTICO_ERR_AUTOBAN_INVALID_DURATION',
  (value: string) => `ban duration ${value} is not usable; expected ${DURATION_HINT} (at least 1ms)`,
);

export const ERR_AUTOBAN_INVALID_RATE = defineError(
  'PORTICO_ERR_AUTOBAN_INVALID_RATE',
  (key: string, detail: string) => `server.auto-ban.${key}: ${detail}; expected ${RATE_HINT}`,
);

export const ERR_AUTOBAN_NEVER_BANNED = defineError(
  'PORTICO_ERR_AUTOBAN_NEVER_BANNED',
  (address: string, why: string) => `not banning ${address}: ${why}`,
);

export const ERR_AUTOBAN_STORE_OPEN = defineError(
  'PORTICO_ERR_AUTOBAN_STORE_OPEN',
  (where: string, reason: string) => `cannot open the ban store ${where}: ${reason}`,
);

export const ERR_AUTOBAN_STORE_CLOSED = defineError(
  'PORTICO_ERR_AUTOBAN_STORE_CLOSED',
  (where: string) => `the ban store ${where} is closed`,
);

export const ERR_AUTOBAN_STORE_FAILED = defineError(
  'PORTICO_ERR_AUTOBAN_STORE_FAILED',
  (where: string, operation: string, reason: string) => `the ban store ${where} failed to ${operation}: ${reason}`,
);
