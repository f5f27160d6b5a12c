import { NetworkList } from '@portico/core';
import type { Config } from './load.ts';
import type { ListenerConfig, ProxyModeSetting } from './schema.ts';

export interface EffectiveProxy {
  /** What the listener does; 'none' when the mode is absent and nobody is trusted. */
  readonly mode: ProxyModeSetting;
  readonly trustedNetworks: NetworkList;
  /** Where the trusted list came from: the listener's own `proxy.trusted-networks` or the global one. */
  readonly trustSource: 'listener' | 'global';
  readonly timeoutMs: number;
  /**
   * http: the one header that carries client addresses. Never "whichever is present": a proxy that
   * writes one of them passes the other through from the client untouched.
   */
  readonly forwardedHeader: 'x-forwarded-for' | 'forwarded';
}

/**
 * The per-listener trust rule: the listener's own list replaces the global one ([] = trust nobody);
 * an absent mode means proxy-protocol (mail) or x-forwarded-for (http), active only when someone is trusted.
 */
export function effectiveProxy(config: Config, listener: ListenerConfig): EffectiveProxy {
  const own = listener.proxy['trusted-networks'];
  const trustedNetworks = NetworkList.parse(own ?? config.server.proxy['trusted-networks']);
  const defaultMode: ProxyModeSetting = listener.protocol === 'http' ? 'x-forwarded-for' : 'proxy-protocol';
  const mode = listener.proxy.mode ?? (trustedNetworks.isEmpty ? 'none' : defaultMode);
  return {
    mode,
    trustedNetworks,
    trustSource: own === undefined ? 'global' : 'listener',
    timeoutMs: listener.proxy.timeout ?? config.server.proxy.timeout,
    forwardedHeader: listener.proxy['forwarded-header'] ?? 'x-forwarded-for',
  };
}
