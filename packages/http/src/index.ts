export { createHttpApp, connectionJson, upstreamForwardingHeaders } from './app.ts';
export type { HttpApp, HttpAppOptions, HttpRoute, ResolvedClient } from './app.ts';
export * as errors from './errors.ts';
export type { MailOptions, MailboxAccess, MailboxMessage, AccountsAccess, StoredKeyword } from './jmap/types.ts';
export { STORED_KEYWORDS } from './jmap/types.ts';
export type { DiscoveryOptions, DiscoveryService } from './discovery/types.ts';
