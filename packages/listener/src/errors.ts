import { defineError } from '@portico/core';

export const ERR_BIND_ADDRESS = defineError(
  'PORTICO_ERR_LISTENER_BIND_ADDRESS',
  (listener: string, text: string) =>
    `listener "${listener}": bind address ${JSON.stringify(text)} is not "host:port" (IPv6 as "[::1]:2525")`,
);
export const ERR_ADDRESS_IN_USE = defineError(
  'PORTICO_ERR_LISTENER_ADDRESS_IN_USE',
  (listener: string, address: string) => `listener "${listener}": ${address} is already in use by another program`,
);
export const ERR_LISTEN = defineError(
  'PORTICO_ERR_LISTENER_LISTEN',
  (listener: string, address: string, reason: string) => `listener "${listener}": cannot listen on ${address}: ${reason}`,
);
export const ERR_TLS_CONTEXT_MISSING = defineError(
  'PORTICO_ERR_LISTENER_TLS_CONTEXT_MISSING',
  (listener: string) => `listener "${listener}": tls.implicit is true but no certificate was configured`,
);
