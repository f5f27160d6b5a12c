/**
 * Strict dotted-quad IPv4 without ipaddr.js. Every accepted connection's addresses go through here
 * (canonical form, trusted-network check); ipaddr.js allocates objects and tries every legacy form
 * (octal, hex, short) before the plain one, which costs several times more than this scan.
 */

/** How a dual-stack (IPv6) socket reports an IPv4 peer: "::ffff:192.0.2.1". */
export const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * The address as an unsigned 32-bit number when `text` (from `start` on) is a strict dotted quad:
 * four decimal octets 0-255 without leading zeros, as the kernel writes them. -1 for anything else,
 * (network.ts uses it as the one dotted-quad grammar, also inside IPv6 text).
 */
export function parseDottedQuad(text: string, start = 0): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1; // a leading zero ("010" is octal to ipaddr.js)
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/** A strict dotted quad, plain or IPv4-mapped, as a number; -1 otherwise. */
export function parseIpv4OrMapped(text: string): number {
  return text.startsWith(IPV4_MAPPED_PREFIX) ? parseDottedQuad(text, IPV4_MAPPED_PREFIX.length) : parseDottedQuad(text);
}
