/**
 * Strict address text parsing (v1) and canonical formatting (v1 and v2), on raw bytes: no regex and no
 * intermediate strings on the hot path. Canonical text: IPv4 dotted quad without leading zeros, IPv6
 * per RFC 5952 (lower case, longest run of two or more zero groups compressed, the first on a tie),
 * and ::ffff:a.b.c.d (IPv4-mapped) as a.b.c.d.
 */

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/**
 * Fast path: a strict dotted quad in buf[start, end) written as 4 bytes into out[at..at+3]. False when
 * it is not one (then `parseIPv4Text` says why).
 */
export function parseIPv4Into(buf: Uint8Array, start: number, end: number, out: Uint8Array, at: number): boolean {
  let i = start;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (i >= end || buf[i] !== 0x2e) return false;
      i++;
    }
    const octetStart = i;
    let octet = 0;
    while (i < end) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      i++;
    }
    const digits = i - octetStart;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && buf[octetStart] === 0x30)) return false;
    out[at + k] = octet;
  }
  return i === end;
}

/**
 * A strict dotted quad in buf[start, end): four decimal octets 0-255 without leading zeros.
 * Returns the address as an unsigned 32-bit number, or a clause saying what is wrong ("it has 3 octets instead of 4").
 */
export function parseIPv4Text(buf: Uint8Array, start: number, end: number): number | string {
  let value = 0;
  let octets = 0;
  let i = start;
  while (true) {
    const octetStart = i;
    let octet = 0;
    while (i < end) {
      const b = buf[i]!;
      if (b < 0x30 || b > 0x39) break;
      octet = octet * 10 + (b - 0x30);
      i++;
      if (i - octetStart > 3) return `it has an octet starting at "${String.fromCharCode(...buf.subarray(octetStart, i))}" with more than 3 digits`;
    }
    const digits = i - octetStart;
    if (digits === 0) {
      if (i < end && buf[i] !== 0x2e) return `it contains ${JSON.stringify(String.fromCharCode(buf[i]!))}, which is not part of a dotted-quad IPv4 address`;
      return 'it has an empty octet';
    }
    if (digits > 1 && buf[octetStart] === 0x30) return `octet "${String.fromCharCode(...buf.subarray(octetStart, i))}" has a leading zero`;
    if (octet > 255) return `octet ${octet} is over 255`;
    octets++;
    if (octets > 4) return 'it has more than 4 octets';
    value = value * 256 + octet;
    if (i === end) break;
    if (buf[i] !== 0x2e) return `it contains ${JSON.stringify(String.fromCharCode(buf[i]!))}, which is not part of a dotted-quad IPv4 address`;
    i++;
    if (i === end) return 'it ends with a dot';
  }
  if (octets !== 4) return `it has ${octets} octet${octets === 1 ? '' : 's'} instead of 4`;
  return value;
}

/**
 * An IPv6 address in buf[start, end) (RFC 4291 text forms: 1-4 hex digits per group, either case, at most
 * one "::", an optional strict dotted-quad tail; no zone id). Fills `groups` and returns null, or returns
 * a sentence fragment saying what is wrong.
 */
export function parseIPv6Text(buf: Uint8Array, start: number, end: number, groups: Uint16Array): string | null {
  let i = start;
  let n = 0;
  let gap = -1;
  if (end - start < 2) return 'it is too short';
  if (buf[i] === 0x3a) {
    if (buf[i + 1] !== 0x3a) return 'it starts with a single ":"';
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const pieceStart = i;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(buf[i]!);
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < end && buf[i] === 0x2e) {
      const v4 = parseIPv4Text(buf, pieceStart, end);
      if (typeof v4 === 'string') return `its IPv4 tail is invalid (${v4})`;
      if (n > 6) return 'it has more than 8 groups';
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0) {
      if (i < end && buf[i] !== 0x3a) return `it contains ${JSON.stringify(String.fromCharCode(buf[i]!))}, which is not part of an IPv6 address`;
      return 'it has an empty group';
    }
    if (digits > 4) return `group "${String.fromCharCode(...buf.subarray(pieceStart, i))}" has more than 4 hex digits`;
    if (n >= 8) return 'it has more than 8 groups';
    groups[n++] = value;
    if (i === end) break;
    if (buf[i] !== 0x3a) return `it contains ${JSON.stringify(String.fromCharCode(buf[i]!))}, which is not part of an IPv6 address`;
    i++;
    if (i < end && buf[i] === 0x3a) {
      if (gap >= 0) return 'it has more than one "::"';
      gap = n;
      i++;
    } else if (i === end) {
      return 'it ends with a single ":"';
    }
  }
  if (gap < 0) {
    if (n !== 8) return `it has ${n} groups instead of 8`;
    return null;
  }
  if (n > 7) return 'its "::" stands for no group at all';
  const tail = n - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return null;
}

/**
 * "0." to "255.": an address's first three octets each come with their dot, so that its text is
 * three concatenations rather than six (every PROXY v2 header has two addresses to write).
 */
const OCTET_AND_DOT = Array.from({ length: 256 }, (_, octet) => `${octet}.`);
const OCTET = Array.from({ length: 256 }, (_, octet) => String(octet));

export function formatIPv4(value: number): string {
  return OCTET_AND_DOT[value >>> 24]! + OCTET_AND_DOT[(value >>> 16) & 0xff]! + OCTET_AND_DOT[(value >>> 8) & 0xff]! + OCTET[value & 0xff]!;
}

export function formatIPv4Bytes(buf: Uint8Array, offset: number): string {
  return OCTET_AND_DOT[buf[offset]!]! + OCTET_AND_DOT[buf[offset + 1]!]! + OCTET_AND_DOT[buf[offset + 2]!]! + OCTET[buf[offset + 3]!]!;
}

/** RFC 5952 text of eight groups; ::ffff:a.b.c.d becomes a.b.c.d. */
export function formatIPv6(groups: ArrayLike<number>): string {
  const g0 = groups[0]!, g1 = groups[1]!, g2 = groups[2]!, g3 = groups[3]!, g4 = groups[4]!, g5 = groups[5]!;
  const g6 = groups[6]!, g7 = groups[7]!;
  if ((g0 | g1 | g2 | g3 | g4) === 0 && g5 === 0xffff) {
    return `${g6 >>> 8}.${g6 & 0xff}.${g7 >>> 8}.${g7 & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) {
    return `${g0.toString(16)}:${g1.toString(16)}:${g2.toString(16)}:${g3.toString(16)}:${g4.toString(16)}:${g5.toString(16)}:${g6.toString(16)}:${g7.toString(16)}`;
  }
  let out = '';
  for (let i = 0; i < bestStart; i++) out += (i === 0 ? '' : ':') + groups[i]!.toString(16);
  out += '::';
  for (let i = bestStart + bestLength; i < 8; i++) out += (i === bestStart + bestLength ? '' : ':') + groups[i]!.toString(16);
  return out;
}

const scratch = new Uint16Array(8);

/** Canonical text of the 16-byte IPv6 address at buf[offset]. */
export function formatIPv6Bytes(buf: Uint8Array, offset: number): string {
  for (let i = 0; i < 8; i++) scratch[i] = (buf[offset + 2 * i]! << 8) | buf[offset + 2 * i + 1]!;
  return formatIPv6(scratch);
}
