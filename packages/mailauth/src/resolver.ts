import { Resolver } from 'node:dns/promises';
import { ERR_NAMESERVER } from './errors.ts';

/** mailauth's resolver shape: `dns.promises.resolve(name, type)` semantics, errors with `code` (ENOTFOUND, ETIMEOUT...). */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

export interface ResolverOptions {
  /** `[resolver] nameservers`, e.g. ["127.0.0.1:5353", "[::1]:53"]; absent or empty = the system resolver. */
  readonly nameservers?: readonly string[];
  /** Per query; default 5000 ms. A query that takes longer fails with code ETIMEOUT (a temporary error). */
  readonly timeoutMs?: number;
}

export const DEFAULT_DNS_TIMEOUT_MS = 5000;

function timeoutError(name: string, rrtype: string): Error {
  return Object.assign(new Error(`DNS query ${rrtype} ${name} timed out`), { code: 'ETIMEOUT' });
}

/**
 * Bounds any resolver (also an injected one) by a timeout, so a DNS server that never answers makes a
 * temperror and never hangs an SMTP session.
 */
export function withTimeout(resolver: DnsResolver, timeoutMs: number): DnsResolver {
  return (name, rrtype) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(timeoutError(name, rrtype)), timeoutMs);
      timer.unref();
      Promise.resolve()
        .then(() => resolver(name, rrtype))
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
    });
}

/** A resolver on node:dns, pointed at `[resolver] nameservers` when given. */
export function createResolver(options: ResolverOptions = {}): DnsResolver {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (options.nameservers && options.nameservers.length > 0) {
    try {
      resolver.setServers([...options.nameservers]);
    } catch (error) {
      throw ERR_NAMESERVER(options.nameservers.join(', '), error instanceof Error ? error.message : String(error));
    }
  }
  const resolve = (name: string, rrtype: string) =>
    resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
  return withTimeout(resolve, timeoutMs + 500);
}
