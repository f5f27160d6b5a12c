import { defineError } from '@portico/core';

export const ERR_TLS_FILE = defineError(
  'PORTICO_ERR_SERVER_TLS_FILE',
  (key: string, path: string, reason: string) => `server.tls.${key}: cannot read ${path}: ${reason}`,
);
export const ERR_TLS_PAIR = defineError(
  'PORTICO_ERR_SERVER_TLS_PAIR',
  (reason: string) => `server.tls: the certificate and private key cannot be used together: ${reason}`,
);
export const ERR_PROTOCOL_UNAVAILABLE = defineError(
  'PORTICO_ERR_SERVER_PROTOCOL_UNAVAILABLE',
  (id: string, protocol: string) => `server.listener.${id}.protocol: "${protocol}" is not implemented yet`,
);
