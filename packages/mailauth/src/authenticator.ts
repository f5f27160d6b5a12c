import { authenticate, spf } from 'mailauth';
import type { Verdict } from '@portico/core';
import { ALLOW } from '@portico/core';
import { isIP } from 'node:net';
import { combine, DEFAULT_POLICY, dkimVerdict, dmarcVerdict, spfVerdict } from './policy.ts';
import type { MailAuthPolicy } from './policy.ts';
import { createResolver, DEFAULT_DNS_TIMEOUT_MS, withTimeout } from './resolver.ts';
import type { DnsResolver } from './resolver.ts';

export interface MailAuthenticatorOptions {
  /** authserv-id of Authentication-Results, normally `[server] hostname`. */
  readonly hostname: string;
  readonly policy?: MailAuthPolicy;
  /** Injected resolver (tests, caches); otherwise one on `nameservers`. Either way bounded by timeoutMs. */
  readonly resolver?: DnsResolver;
  /** `[resolver] nameservers`; absent = the system resolver. */
  readonly nameservers?: readonly string[];
  /** Per DNS query, default 5000 ms. */
  readonly timeoutMs?: number;
}

export interface SpfInput {
  /** The real client address (ConnectionInfo.client.address, never the proxy's). */
  readonly ip: string;
  readonly helo: string;
  /** MAIL FROM address; empty for the null reverse-path (then the HELO identity is checked). */
  readonly sender: string;
}

export interface SpfCheck {
  /** pass | fail | softfail | neutral | none | temperror | permerror */
  readonly result: string;
  readonly domain: string;
  /** `Received-SPF: ...` */
  readonly header: string;
  readonly verdict: Verdict;
}

export interface AuthenticateInput extends SpfInput {
  /** The message as received (without our Received / Return-Path). */
  readonly message: Buffer;
}

export interface AuthenticationOutcome {
  /** `Authentication-Results: ...` (RFC 8601), folded, ending in CRLF; empty when every method is disabled. */
  readonly header: string;
  readonly spf?: { readonly result: string; readonly domain: string };
  readonly dkim: ReadonlyArray<{ readonly domain: string; readonly selector?: string; readonly result: string }>;
  readonly dmarc?: { readonly result: string; readonly policy?: string; readonly domain?: string };
  readonly verdict: Verdict;
}

/**
 * SPF, DKIM, DMARC (and ARC) through mailauth, mapped to Verdicts by the configured policy.
 * Never throws for DNS trouble: a timeout is a temperror, which the policy makes a temporary refusal.
 */
export class MailAuthenticator {
  readonly hostname: string;
  readonly policy: MailAuthPolicy;
  readonly resolver: DnsResolver;

  constructor(options: MailAuthenticatorOptions) {
    this.hostname = options.hostname;
    this.policy = options.policy ?? DEFAULT_POLICY;
    const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
    this.resolver = options.resolver
      ? withTimeout(options.resolver, timeoutMs)
      : createResolver({ ...(options.nameservers ? { nameservers: options.nameservers } : {}), timeoutMs });
  }

  /** SPF at MAIL FROM (or for the HELO identity when the sender is empty). */
  async checkSpf(input: SpfInput): Promise<SpfCheck> {
    if (this.policy.spf === 'disable') return { result: 'none', domain: '', header: '', verdict: ALLOW };
    const result = await spf({
      ip: input.ip,
      helo: heloIdentity(input.helo, input.ip),
      sender: input.sender,
      mta: this.hostname,
      resolver: this.resolver,
    });
    const status = String(result.status.result);
    return { result: status, domain: result.domain, header: result.header, verdict: spfVerdict(this.policy.spf, status, result.domain, input.ip) };
  }

  /** After DATA: every method, the Authentication-Results header and the combined verdict. */
  async authenticate(input: AuthenticateInput): Promise<AuthenticationOutcome> {
    const { spf: spfMode, dkim: dkimMode, dmarc: dmarcMode } = this.policy;
    if (spfMode === 'disable' && dkimMode === 'disable' && dmarcMode === 'disable') {
      return { header: '', dkim: [], verdict: ALLOW };
    }
    const result = await authenticate(input.message, {
      ip: input.ip,
      helo: heloIdentity(input.helo, input.ip),
      sender: input.sender,
      mta: this.hostname,
      resolver: this.resolver,
      disableBimi: true,
      disableDmarc: dmarcMode === 'disable',
    });
    const arLine = result.headers
      .split('\r\n')
      .reduce<string[]>((acc, line) => {
        // headers holds Received-SPF and Authentication-Results, each possibly folded
        if (/^\s/.test(line) && acc.length > 0) acc[acc.length - 1] += '\r\n' + line;
        else if (line) acc.push(line);
        return acc;
      }, [])
      .find((h) => /^Authentication-Results:/i.test(h));
    const spfPart = result.spf ? { result: String(result.spf.status.result), domain: result.spf.domain } : undefined;
    const dkim = (result.dkim?.results ?? []).map((r) => ({
      domain: r.signingDomain ?? '',
      ...(r.selector ? { selector: r.selector } : {}),
      result: String(r.status.result),
    }));
    const dmarc = result.dmarc
      ? {
          result: String(result.dmarc.status.result),
          ...(result.dmarc.policy ? { policy: result.dmarc.policy } : {}),
          ...(result.dmarc.domain ? { domain: result.dmarc.domain } : {}),
        }
      : undefined;
    const verdict = combine([
      dmarcVerdict(dmarcMode, dmarc?.result, dmarc?.policy, dmarc?.domain),
      spfPart ? spfVerdict(spfMode, spfPart.result, spfPart.domain, input.ip) : ALLOW,
      dkimVerdict(dkimMode, dkim.map((d) => d.result)),
    ]);
    return {
      header: arLine ? arLine + '\r\n' : '',
      ...(spfPart ? { spf: spfPart } : {}),
      dkim,
      ...(dmarc ? { dmarc } : {}),
      verdict,
    };
  }

  /**
   * Forward-confirmed reverse DNS (iprev, RFC 8601 2.7.3) of the client address: the PTR name whose
   * A/AAAA records include the address, or undefined.
   */
  async reverseName(ip: string): Promise<string | undefined> {
    const arpa = reverseZoneName(ip);
    if (!arpa) return undefined;
    try {
      const names = (await this.resolver(arpa, 'PTR')) as string[];
      for (const name of names.slice(0, 5)) {
        try {
          const addresses = (await this.resolver(name, isIP(ip) === 6 ? 'AAAA' : 'A')) as string[];
          if (addresses.some((a) => a.toLowerCase() === ip.toLowerCase())) return name.replace(/\.$/, '');
        } catch {
          // try the next name
        }
      }
    } catch {
      // no PTR: unknown
    }
    return undefined;
  }
}

function heloIdentity(helo: string, ip: string): string {
  const bare = helo.replace(/^\[(?:IPv6:)?/i, '').replace(/\]$/, '');
  return bare || ip;
}

/** 1.2.3.4 -> 4.3.2.1.in-addr.arpa; IPv6 in nibble form under ip6.arpa. */
export function reverseZoneName(ip: string): string | undefined {
  const kind = isIP(ip);
  if (kind === 4) return ip.split('.').reverse().join('.') + '.in-addr.arpa';
  if (kind !== 6) return undefined;
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const full = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (full.length !== 8 || full.some((g) => g.includes('.'))) return undefined;
  const nibbles = full.map((g) => g.padStart(4, '0')).join('');
  return nibbles.split('').reverse().join('.') + '.ip6.arpa';
}
