/** What mail clients are told: the server's public name and its public listeners (never request headers). */
export interface DiscoveryService {
  protocol: 'smtp' | 'submission' | 'imap' | 'pop3';
  /** The port clients use: the listener's public-port, else its bind port. */
  port: number;
  tls: 'implicit' | 'starttls';
}

export interface DiscoveryOptions {
  /** server.hostname */
  hostname: string;
  /** mail.domains; the first is the default when the client does not say its address. */
  domains: string[];
  /** In order of preference within a protocol. */
  services: DiscoveryService[];
}

/** Characters XML 1.0 cannot carry at all are dropped; markup characters are escaped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A plausible address the client gave (used only as the login name it is told), else undefined. */
export function plausibleAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return /^[^\s@<>"]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(trimmed) ? trimmed : undefined;
}

/** The configured domain for an address, or the first configured domain. */
export function domainFor(options: DiscoveryOptions, address: string | undefined): string {
  const domain = address?.split('@')[1]?.toLowerCase();
  const known = options.domains.find((d) => d.toLowerCase() === domain);
  return known ?? options.domains[0] ?? options.hostname;
}

/** Clients send mail through submission first, port-25 SMTP only as a fallback. */
export function outgoing(services: readonly DiscoveryService[]): DiscoveryService[] {
  return [...services.filter((s) => s.protocol === 'submission'), ...services.filter((s) => s.protocol === 'smtp')];
}
