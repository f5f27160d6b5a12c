export { createHttpApp, connectionJson, upstreamForwardingHeaders } from './app.ts';
export type { HttpApp, HttpAppOptions, HttpRoute, ResolvedClient } from './app.ts';
export * as errors from './errors.ts';
