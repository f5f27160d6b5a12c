import { defineError } from '@portico/core';

export const ERR_PUBLIC_URL = defineError(
  'PORTICO_ERR_HTTP_PUBLIC_URL',
  (value: string) => `server.public-url ${JSON.stringify(value)} is not an absolute http:// or https:// URL`,
);
export const ERR_ROUTE_PREFIX = defineError(
  'PORTICO_ERR_HTTP_ROUTE_PREFIX',
  (prefix: string, reason: string) => `http.routes.${JSON.stringify(prefix)}: ${reason}`,
);
export const ERR_ROUTE_UPSTREAM = defineError(
  'PORTICO_ERR_HTTP_ROUTE_UPSTREAM',
  (prefix: string, upstream: string) =>
    `http.routes.${JSON.stringify(prefix)}.upstream ${JSON.stringify(upstream)} is not an absolute http:// or https:// URL`,
);
export const ERR_UNKNOWN_CONNECTION = defineError(
  'PORTICO_ERR_HTTP_UNKNOWN_CONNECTION',
  () => 'a request arrived on a socket that was not handed over through handleConnection',
);
