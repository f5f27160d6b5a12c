export { loadConfig, parseConfig } from './load.ts';
export type { Config, LoadResult } from './load.ts';
export { effectiveProxy } from './effective.ts';
export type { EffectiveProxy } from './effective.ts';
export { formatProblem } from './issues.ts';
export type { ConfigProblem } from './issues.ts';
export { PROTOCOLS, PROXY_MODES } from './schema.ts';
export type { ListenerConfig, Protocol, ProxyModeSetting, ParsedConfig } from './schema.ts';
export * as errors from './errors.ts';
