/**
 * PROXY protocol v2 (haproxy doc/proxy-protocol.txt section 2.2): 16-byte fixed part, address block,
 * TLVs. `checkV2Prefix` judges the fixed part byte by byte as it arrives; `parseV2` the whole header.
 * No regex, no copies of the header.
 */
import { formatIPv4Bytes, formatIPv6Bytes } from './address.ts';
import { hex2, malformed, quoteBytes } from './errors.ts';
import { parseTlvs } from './tlv.ts';
import type { Malformed, ParseResult, ProxyHeader, ProxyTlvs } from './types.ts';

export const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
export const V2_FIXED_LENGTH = 16;
const CMD_LOCAL = 0x20;
const CMD_PROXY = 0x21;

type Family = ProxyHeader['family'];

function familyName(byte: number): Family | undefined {
  switch (byte) {
    case 0x00: return 'UNSPEC';
    case 0x11: return 'TCP4';
    case 0x12: return 'UDP4';
    case 0x21: return 'TCP6';
    case 0x22: return 'UDP6';
    case 0x31: return 'UNIX';
    case 0x32: return 'UNIX';
    default: return undefined;
  }
}

/**
 * Families a PROXY command may carry on our stream listeners. UDP and UNIX datagram describe a
 * transport we do not serve, so a header naming them is a proxy misconfiguration.
 */
const PROXY_FAMILIES = new Set([0x00, 0x11, 0x21, 0x31]);

/** Size of the address block of a family/transport byte: 0x1? 12, 0x2? 36, 0x3? 216, UNSPEC 0. */
function blockSize(byte: number): number {
  const af = byte >>> 4;
  return af === 1 ? 12 : af === 2 ? 36 : af === 3 ? 216 : 0;
}

function describeFamily(byte: number): string {
  const name = familyName(byte);
  return byte === 0x31 ? 'UNIX stream' : byte === 0x32 ? 'UNIX datagram' : name ?? 'unknown';
}

/** V2_SIGNATURE at buf[0, 12), as one expression of constants. */
function wholeSignature(buf: Uint8Array): boolean {
  return (
    buf[0] === 0x0d && buf[1] === 0x0a && buf[2] === 0x0d && buf[3] === 0x0a && buf[4] === 0x00 && buf[5] === 0x0d &&
    buf[6] === 0x0a && buf[7] === 0x51 && buf[8] === 0x55 && buf[9] === 0x49 && buf[10] === 0x54 && buf[11] === 0x0a
  );
}

/**
 * Judges the first min(avail, 16) bytes of a v2 header at buf[0]. Returns the total header length once
 * the fixed part is in and valid, 'incomplete' while it can still become valid, or why it cannot.
 */
export function checkV2Prefix(buf: Uint8Array, avail: number): { state: 'sized'; total: number } | { state: 'incomplete' } | Malformed {
  // Nearly every header arrives whole: its signature is checked in one expression (the loop over
  // V2_SIGNATURE cost some 700 instructions a connection, callgrind), and the loop finds the
  // failing byte of a header that is short or wrong.
  const n = avail >= 12 && wholeSignature(buf) ? 0 : avail < 12 ? avail : 12;
  for (let i = 0; i < n; i++) {
    if (buf[i] !== V2_SIGNATURE[i]) {
      return malformed(
        `not a PROXY protocol header (first bytes ${quoteBytes(buf, 0, Math.min(avail, 8), 8)}; byte ${hex2(buf[i]!)} at offset ${i} breaks the v2 signature)`,
        i,
      );
    }
  }
  if (avail < 13) return { state: 'incomplete' };
  const cmd = buf[12]!;
  if (cmd !== CMD_PROXY && cmd !== CMD_LOCAL) {
    return malformed(`v2: unsupported version/command byte ${hex2(cmd)} at offset 12 (expected 0x21 PROXY or 0x20 LOCAL)`, 12);
  }
  if (avail < 14) return { state: 'incomplete' };
  const fam = buf[13]!;
  if (familyName(fam) === undefined) {
    return malformed(`v2: unsupported address family/transport byte ${hex2(fam)} at offset 13`, 13);
  }
  if (cmd === CMD_PROXY && !PROXY_FAMILIES.has(fam)) {
    return malformed(
      `v2: PROXY command with address family/transport byte ${hex2(fam)} (${describeFamily(fam)}) at offset 13 is refused: a stream listener takes TCP4 (0x11), TCP6 (0x21), UNIX stream (0x31) or UNSPEC (0x00)`,
      13,
    );
  }
  if (avail < 16) return { state: 'incomplete' };
  const length = (buf[14]! << 8) | buf[15]!;
  const block = blockSize(fam);
  if (cmd === CMD_PROXY && length < block) {
    return malformed(`v2: length ${length} at offset 14 is shorter than the ${block}-byte ${describeFamily(fam)} address block`, 14);
  }
  return { state: 'sized', total: V2_FIXED_LENGTH + length };
}

/** Parses a complete v2 header buf[0, total) whose prefix `checkV2Prefix` accepted. */
export function parseV2(buf: Buffer, total: number): ParseResult {
  const cmd = buf[12]!;
  const fam = buf[13]!;
  const block = blockSize(fam);
  const tlvs: ProxyTlvs = { custom: [] };
  if (cmd === CMD_LOCAL) {
    // LOCAL (health checks): the addresses are ignored; the TLVs are still checked when there is room
    // for the address block (a shorter block is simply skipped, as the spec asks).
    if (total - V2_FIXED_LENGTH >= block) {
      const problem = parseTlvs(buf, V2_FIXED_LENGTH + block, total, tlvs);
      if (problem) return problem;
    }
    return { state: 'done', header: { version: 2, command: 'LOCAL', family: familyName(fam)!, tlvs, length: total } };
  }
  const problem = parseTlvs(buf, V2_FIXED_LENGTH + block, total, tlvs);
  if (problem) return problem;
  let header: ProxyHeader;
  if (fam === 0x00 || fam === 0x31) {
    // The proxy's own connection (UNSPEC) or a client on a unix socket: no client IP to learn, so
    // the socket's addresses are used (spec 2.2), but the TLVs still count.
    header = { version: 2, command: 'PROXY', family: familyName(fam)!, tlvs, length: total };
  } else if (fam === 0x11) {
    header = {
      version: 2,
      command: 'PROXY',
      family: 'TCP4',
      source: { address: formatIPv4Bytes(buf, 16), port: (buf[24]! << 8) | buf[25]! },
      destination: { address: formatIPv4Bytes(buf, 20), port: (buf[26]! << 8) | buf[27]! },
      tlvs,
      length: total,
    };
  } else {
    header = {
      version: 2,
      command: 'PROXY',
      family: 'TCP6',
      source: { address: formatIPv6Bytes(buf, 16), port: (buf[48]! << 8) | buf[49]! },
      destination: { address: formatIPv6Bytes(buf, 32), port: (buf[50]! << 8) | buf[51]! },
      tlvs,
      length: total,
    };
  }
  return { state: 'done', header };
}
