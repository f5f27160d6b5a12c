/**
 * PROXY protocol v1 (haproxy doc/proxy-protocol.txt section 2.1), one byte-level pass with no regex:
 *   "PROXY" SP ( "TCP4" SP ip4 SP ip4 SP port SP port | "TCP6" SP ip6 SP ip6 SP port SP port | "UNKNOWN" [SP *any] ) CRLF
 * at most 107 bytes including CRLF. Works on a prefix too: returns 'incomplete' only while the bytes so
 * far can still become a valid line, so a reader can refuse as early as the first bad byte.
 */
import { formatIPv4Bytes, formatIPv6, parseIPv4Into, parseIPv4Text, parseIPv6Text } from './address.ts';
import { describeByte, malformed, notAHeader, quoteBytes } from './errors.ts';
import type { ParseResult, ProxyAddress, ProxyHeader } from './types.ts';

export const V1_MAX_LENGTH = 107;
const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const INCOMPLETE: ParseResult = { state: 'incomplete' };
const FIELDS = ['source address', 'destination address', 'source port', 'destination port'] as const;
const PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'] as const;
const groups = new Uint16Array(8);
const quads = new Uint8Array(8);

/** Bytes that may appear in an address field: 1 for 0-9 . A-F a-f, 2 for ':'. */
const ADDRESS_BYTE = new Uint8Array(256);
for (const c of '0123456789.ABCDEFabcdef') ADDRESS_BYTE[c.charCodeAt(0)] = 1;
ADDRESS_BYTE[0x3a] = 2;

function isProtocolByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** The end of the data we may look at was reached without a decision. */
function endOfData(avail: number): ParseResult {
  if (avail >= V1_MAX_LENGTH) return malformed(`v1: no CRLF within the first ${V1_MAX_LENGTH} bytes (the longest a v1 line may be)`, V1_MAX_LENGTH);
  return INCOMPLETE;
}

/** Parses the v1 header at buf[0] from the first `avail` bytes. */
export function parseV1(buf: Uint8Array, avail: number): ParseResult {
  const lim = avail < V1_MAX_LENGTH ? avail : V1_MAX_LENGTH;
  // "PROXY "
  if (lim < 1) return INCOMPLETE;
  if (buf[0] !== 0x50 || (lim > 1 && buf[1] !== 0x52) || (lim > 2 && buf[2] !== 0x4f) || (lim > 3 && buf[3] !== 0x58) || (lim > 4 && buf[4] !== 0x59)) {
    return notAHeader(buf, avail);
  }
  if (lim < 6) return INCOMPLETE;
  if (buf[5] !== SP) return malformed(`v1: expected a space after "PROXY" at offset 5, found ${describeByte(buf[5]!)}`, 5);

  // protocol (fast path for the common "TCP4 " / "TCP6 ")
  let p = 6;
  if (lim > 10 && buf[6] === 0x54 && buf[7] === 0x43 && buf[8] === 0x50 && buf[10] === SP && (buf[9] === 0x34 || buf[9] === 0x36)) {
    if (buf[9] === 0x34) {
      const header = fastTcp4(buf, lim);
      if (header !== undefined) return { state: 'done', header };
    }
    return parseTcp(buf, avail, lim, buf[9] === 0x36);
  }
  while (p < lim && isProtocolByte(buf[p]!)) p++;
  const protoLength = p - 6;
  let proto = -1;
  for (let k = 0; k < 3; k++) {
    const name = PROTOCOLS[k]!;
    if (protoLength > name.length) continue;
    let ok = true;
    for (let j = 0; j < protoLength; j++) {
      if (buf[6 + j] !== name.charCodeAt(j)) {
        ok = false;
        break;
      }
    }
    if (ok && (p === lim || protoLength === name.length)) {
      proto = k;
      break;
    }
  }
  if (proto < 0) {
    if (protoLength === 0) {
      return malformed(`v1: missing protocol at offset 6 (expected TCP4, TCP6 or UNKNOWN), found ${describeByte(buf[6]!)}`, 6);
    }
    return malformed(`v1: unknown protocol ${quoteBytes(buf, 6, p)} at offset 6 (expected TCP4, TCP6 or UNKNOWN)`, 6);
  }
  if (p === lim) return endOfData(avail);
  const after = buf[p]!;

  if (proto === 2) {
    // UNKNOWN: anything up to CRLF; the receiver uses the socket's addresses.
    if (after === SP) {
      p++;
      while (p < lim && buf[p] !== CR && buf[p] !== LF) p++;
      if (p === lim) return endOfData(avail);
    }
    return lineEnd(buf, avail, lim, p, 'UNKNOWN', undefined, undefined);
  }
  if (after !== SP) {
    if (after === CR || after === LF) return malformed(`v1: line ends at offset ${p} where the source address was expected`, p);
    return malformed(`v1: expected a space after the protocol at offset ${p}, found ${describeByte(after)}`, p);
  }
  return parseTcp(buf, avail, lim, proto === 1);
}

/** Reads a strict dotted quad at buf[p] into quads[at..at+3]; returns the index after it, or -1. */
function quadAt(buf: Uint8Array, p: number, lim: number, at: number): number {
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (p >= lim || buf[p] !== 0x2e) return -1;
      p++;
    }
    const start = p;
    let octet = 0;
    while (p < lim) {
      const d = buf[p]! - 0x30;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      p++;
    }
    const digits = p - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && buf[start] === 0x30)) return -1;
    quads[at + k] = octet;
  }
  return p;
}

let portValue = 0;

/** Reads a strict port at buf[p] into portValue; returns the index after it, or -1. */
function portAt(buf: Uint8Array, p: number, lim: number): number {
  const start = p;
  let value = 0;
  while (p < lim) {
    const d = buf[p]! - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    p++;
  }
  const digits = p - start;
  if (digits === 0 || digits > 5 || value > 65535 || (digits > 1 && buf[start] === 0x30)) return -1;
  portValue = value;
  return p;
}

/**
 * Hot path for a complete, valid "PROXY TCP4 " line; undefined for anything else (incomplete or wrong),
 * which `parseTcp` then judges with a precise reason.
 */
function fastTcp4(buf: Uint8Array, lim: number): ProxyHeader | undefined {
  let p = quadAt(buf, 11, lim, 0);
  if (p < 0 || p >= lim || buf[p] !== SP) return undefined;
  p = quadAt(buf, p + 1, lim, 4);
  if (p < 0 || p >= lim || buf[p] !== SP) return undefined;
  p = portAt(buf, p + 1, lim);
  if (p < 0 || p >= lim || buf[p] !== SP) return undefined;
  const sourcePort = portValue;
  p = portAt(buf, p + 1, lim);
  if (p < 0 || p + 1 >= lim || buf[p] !== CR || buf[p + 1] !== LF) return undefined;
  return {
    version: 1,
    command: 'PROXY',
    family: 'TCP4',
    source: { address: formatIPv4Bytes(quads, 0), port: sourcePort },
    destination: { address: formatIPv4Bytes(quads, 4), port: portValue },
    tlvs: { custom: [] },
    length: p + 2,
  };
}

/** After "PROXY TCP4 " or "PROXY TCP6 " (11 bytes, all within lim). */
function parseTcp(buf: Uint8Array, avail: number, lim: number, v6: boolean): ParseResult {
  let p = 11;
  let srcStart = 0, srcEnd = 0, dstStart = 0, dstEnd = 0, srcPort = 0, dstPort = 0;
  for (let field = 0; field < 4; field++) {
    const start = p;
    const isPort = field >= 2;
    const name = FIELDS[field]!;
    let value = 0;
    let hasColon = false;
    if (isPort) {
      while (p < lim) {
        const b = buf[p]!;
        if (b < 0x30 || b > 0x39) break;
        value = value * 10 + (b - 0x30);
        p++;
      }
      // Judged even before the field ends: more digits cannot make these right.
      const more = p === lim ? ' (so far)' : '';
      if (p - start > 1 && buf[start] === 0x30) return malformed(`v1: ${name} ${quoteBytes(buf, start, p)}${more} has a leading zero`, start);
      if (p - start > 5) return malformed(`v1: ${name} ${quoteBytes(buf, start, p)}${more} has more than 5 digits`, start);
    } else {
      while (p < lim) {
        const kind = ADDRESS_BYTE[buf[p]!]!;
        if (kind === 0) break;
        if (kind === 2) hasColon = true;
        p++;
      }
      if (p - start > 45) return malformed(`v1: ${name} at offset ${start} is longer than any IP${v6 ? 'v6' : 'v4'} address`, start);
    }
    if (p === lim) return endOfData(avail);
    const end = p;
    const stop = buf[p]!;
    if (end === start) {
      if (stop === SP) return malformed(`v1: empty ${name} at offset ${start} (fields are separated by exactly one space)`, start);
      if (stop === CR || stop === LF) return malformed(`v1: line ends at offset ${start} where the ${name} was expected`, start);
      return malformed(`v1: byte ${describeByte(stop)} at offset ${start} is not allowed in the ${name}`, start);
    }
    if (stop !== SP && stop !== CR && stop !== LF) {
      return malformed(`v1: byte ${describeByte(stop)} at offset ${p} is not allowed in the ${name} ${quoteBytes(buf, start, p)}`, p);
    }
    // The field is complete: validate it.
    if (isPort) {
      if (value > 65535) return malformed(`v1: ${name} ${quoteBytes(buf, start, end)} is over 65535`, start);
      if (field === 2) srcPort = value;
      else dstPort = value;
    } else {
      if (v6) {
        if (!hasColon) return malformed(`v1: ${name} ${quoteBytes(buf, start, end)} is not an IPv6 address, but the protocol is TCP6`, start);
        const problem = parseIPv6Text(buf, start, end, groups);
        if (problem !== null) return malformed(`v1: ${name} ${quoteBytes(buf, start, end)} is not a valid IPv6 address: ${problem}`, start);
      } else {
        if (hasColon) return malformed(`v1: ${name} ${quoteBytes(buf, start, end)} is not an IPv4 address, but the protocol is TCP4`, start);
        if (!parseIPv4Into(buf, start, end, quads, field * 4)) {
          const problem = parseIPv4Text(buf, start, end);
          return malformed(`v1: ${name} ${quoteBytes(buf, start, end)} is not a canonical IPv4 address: ${typeof problem === 'string' ? problem : 'it is malformed'}`, start);
        }
      }
      if (field === 0) {
        srcStart = start;
        srcEnd = end;
      } else {
        dstStart = start;
        dstEnd = end;
      }
    }
    if (field < 3) {
      if (stop !== SP) {
        const missing = FIELDS.slice(field + 1).join(', ');
        return malformed(`v1: line ends at offset ${p} after the ${name}; missing: ${missing}`, p);
      }
      p++;
    } else if (stop === SP) {
      return malformed(`v1: extra field after the destination port at offset ${p}`, p);
    }
  }

  let source: ProxyAddress;
  let destination: ProxyAddress;
  if (v6) {
    parseIPv6Text(buf, srcStart, srcEnd, groups);
    source = { address: formatIPv6(groups), port: srcPort };
    parseIPv6Text(buf, dstStart, dstEnd, groups);
    destination = { address: formatIPv6(groups), port: dstPort };
  } else {
    source = { address: formatIPv4Bytes(quads, 0), port: srcPort };
    destination = { address: formatIPv4Bytes(quads, 4), port: dstPort };
  }
  return lineEnd(buf, avail, lim, p, v6 ? 'TCP6' : 'TCP4', source, destination);
}

/** buf[p] is CR or LF (p < lim): the line must end with CRLF here. */
function lineEnd(
  buf: Uint8Array,
  avail: number,
  lim: number,
  p: number,
  family: 'TCP4' | 'TCP6' | 'UNKNOWN',
  source: ProxyAddress | undefined,
  destination: ProxyAddress | undefined,
): ParseResult {
  const b = buf[p]!;
  if (b === LF) return malformed(`v1: bare LF at offset ${p} (the line must end with CRLF)`, p);
  if (b !== CR) return malformed(`v1: expected CRLF at offset ${p}, found ${describeByte(b)}`, p);
  if (p + 1 >= lim) return endOfData(avail);
  if (buf[p + 1] !== LF) return malformed(`v1: CR at offset ${p} is not followed by LF (found ${describeByte(buf[p + 1]!)})`, p + 1);
  const header: ProxyHeader =
    family === 'UNKNOWN'
      ? // v1 has no command: UNKNOWN means "use the socket's addresses", reported as PROXY without addresses.
        { version: 1, command: 'PROXY', family, tlvs: { custom: [] }, length: p + 2 }
      : { version: 1, command: 'PROXY', family, source: source!, destination: destination!, tlvs: { custom: [] }, length: p + 2 };
  return { state: 'done', header };
}
