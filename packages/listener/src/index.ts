export { startListener } from './listener.ts';
export type { ListenerOptions, RunningListener, BoundAddress, ProxyMode } from './options.ts';
export { parseBindAddress, formatHostPort } from './bind-address.ts';
export type { BindAddress } from './bind-address.ts';
export { tlsStateFromProxy } from './tls-state.ts';
export * as errors from './errors.ts';
