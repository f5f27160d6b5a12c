import ipaddr from 'ipaddr.js';
import { IPV4_MAPPED_PREFIX, parseDottedQuad, parseIpv4OrMapped } from './ipv4.ts';

/**
 * IP addresses and networks in canonical form. ipaddr.js accepts forms we must not
 * (127.1, 0x7f.0.0.1, 010.0.0.1), so IPv4 text is checked against the strict dotted-quad grammar first.
 */


export type IpKind = 'ipv4' | 'ipv6';

export interface Network {
  readonly kind: IpKind;
  /** Canonical text, e.g. "10.0.0.0/8" or "2001:db8::/32". */
  readonly text: string;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

function parseStrict(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (text.includes(':')) {
    if (!ipaddr.IPv6.isValid(text) || text.includes('%')) return undefined;
    const v6 = ipaddr.IPv6.parse(text);
    // An embedded IPv4 tail must itself be a strict dotted quad.
    const tail = text.lastIndexOf(':');
    const rest = text.slice(tail + 1);
    if (rest.includes('.') && parseDottedQuad(rest) < 0) return undefined;
    return v6;
  }
  if (parseDottedQuad(text) < 0) return undefined;
  return ipaddr.IPv4.parse(text);
}

/**
 * The canonical form of an IP address: IPv4-mapped IPv6 becomes IPv4, IPv6 is lower-case and
 * zero-compressed. Undefined for anything that is not a strictly written address.
 */
export function canonicalAddress(text: string): string | undefined {
  // Fast path for what the kernel reports on every connection: a dotted quad is already canonical.
  if (parseDottedQuad(text) >= 0) return text;
  if (text.startsWith(IPV4_MAPPED_PREFIX) && parseDottedQuad(text, IPV4_MAPPED_PREFIX.length) >= 0) {
    return text.slice(IPV4_MAPPED_PREFIX.length);
  }
  const parsed = parseStrict(text);
  if (!parsed) return undefined;
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (parsed as ipaddr.IPv6).toIPv4Address().toString();
  }
  return parsed.toString();
}

/**
 * `answer`, keeping its last address and answer: behind a proxy nearly every connection's peer is
 * the same address, and comparing two strings is cheaper than parsing one again.
 */
function keepingLastAnswer<T>(answer: (address: string) => T): (address: string) => T {
  let lastAddress: string | undefined;
  let lastAnswer: T;
  return (address) => {
    if (address !== lastAddress) {
      lastAnswer = answer(address);
      lastAddress = address;
    }
    return lastAnswer;
  };
}

const canonicalOfSocketAddress = keepingLastAnswer((text) => canonicalAddress(text) ?? text.toLowerCase());

/** Canonical form of an address the kernel reported (always well-formed; maps ::ffff:a.b.c.d). */
export function canonicalSocketAddress(text: string | undefined): string {
  return text ? canonicalOfSocketAddress(text) : '';
}

export type NetworkParse = { ok: true; network: Network } | { ok: false; reason: string };

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (v4 = /32, v6 = /128). */
export function parseNetwork(text: string): NetworkParse {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseStrict(addressText);
  if (!address) return { ok: false, reason: 'the address is not a canonical IPv4 or IPv6 address' };
  const kind = address.kind();
  const max = kind === 'ipv4' ? 32 : 128;
  if (kind === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return { ok: false, reason: 'IPv4-mapped IPv6 networks are not accepted: write the IPv4 form (e.g. "10.0.0.0/8")' };
  }
  let prefix = max;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > max) {
      return { ok: false, reason: `prefix must be 0-${max} for ${kind === 'ipv4' ? 'IPv4' : 'IPv6'}` };
    }
    prefix = Number(prefixText);
  }
  const canonical = `${address.toString()}/${prefix}`;
  return { ok: true, network: Object.freeze({ kind, text: slash === -1 ? address.toString() : canonical, address, prefix }) };
}

/** An IPv4 network as numbers, so that checking a dotted quad needs no parsing library. */
interface Ipv4Range {
  readonly base: number;
  readonly mask: number;
}

function ipv4Range(network: Network): Ipv4Range {
  const [a, b, c, d] = (network.address as ipaddr.IPv4).octets as [number, number, number, number];
  const mask = network.prefix === 0 ? 0 : (0xffffffff << (32 - network.prefix)) >>> 0;
  return { base: (((a << 24) | (b << 16) | (c << 8) | d) & mask) >>> 0, mask };
}

/** A fixed set of networks; `has` takes any address text and maps IPv4-mapped IPv6 to IPv4. */
export class NetworkList {
  readonly networks: readonly Network[];
  readonly #ipv4: readonly Ipv4Range[];
  constructor(networks: readonly Network[]) {
    this.networks = Object.freeze([...networks]);
    this.#ipv4 = this.networks.filter((n) => n.kind === 'ipv4').map(ipv4Range);
  }

  static parse(texts: readonly string[]): NetworkList {
    return new NetworkList(
      texts.map((t) => {
        const r = parseNetwork(t);
        if (!r.ok) throw new Error(`${JSON.stringify(t)}: ${r.reason}`);
        return r.network;
      }),
    );
  }

  get isEmpty(): boolean {
    return this.networks.length === 0;
  }

  /** Whether the address is in one of the networks. */
  has(addressText: string): boolean {
    return this.#has(addressText);
  }

  readonly #has = keepingLastAnswer((address) => this.#contains(address));

  #contains(addressText: string): boolean {
    if (this.networks.length === 0 || !addressText) return false;
    // Fast path: the peer of nearly every connection is a plain or mapped dotted quad.
    const ipv4 = parseIpv4OrMapped(addressText);
    if (ipv4 >= 0) {
      for (const range of this.#ipv4) if (((ipv4 & range.mask) >>> 0) === range.base) return true;
      return false;
    }
    // Strictly written addresses only: "127.1" or "0x7f.0.0.1" never match 127.0.0.0/8.
    const parsed = parseStrict(addressText);
    if (!parsed) return false;
    // ::ffff:a.b.c.d in any other spelling is IPv4 and must match IPv4 networks.
    const address = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
    const kind = address.kind();
    for (const net of this.networks) {
      if (net.kind === kind && (address as ipaddr.IPv4).match(net.address as ipaddr.IPv4, net.prefix)) return true;
    }
    return false;
  }

  toStrings(): string[] {
    return this.networks.map((n) => n.text);
  }
}
