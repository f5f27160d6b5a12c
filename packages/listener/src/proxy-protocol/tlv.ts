/**
 * PROXY v2 TLVs (haproxy doc/proxy-protocol.txt section 2.2). Framing is checked for every TLV, known
 * or not: a TLV that overruns the header, or trailing bytes too short to be one, make the header
 * malformed. Known types are decoded; unknown ones (including 0x00 padding and 0xF0-0xFF) are skipped;
 * 0xE0-0xEF are kept raw. A repeated ALPN, AUTHORITY, CRC32C, UNIQUE_ID, SSL or NETNS is refused: two
 * values for one field leave no right answer.
 */
import { crc32cUpdate, crc32cZeros } from './crc32c.ts';
import { hex2, malformed } from './errors.ts';
import type { Malformed, ProxyTlvs, SslTlv } from './types.ts';

export const PP2_TYPE_ALPN = 0x01;
export const PP2_TYPE_AUTHORITY = 0x02;
export const PP2_TYPE_CRC32C = 0x03;
export const PP2_TYPE_NOOP = 0x04;
export const PP2_TYPE_UNIQUE_ID = 0x05;
export const PP2_TYPE_SSL = 0x20;
export const PP2_SUBTYPE_SSL_VERSION = 0x21;
export const PP2_SUBTYPE_SSL_CN = 0x22;
export const PP2_SUBTYPE_SSL_CIPHER = 0x23;
export const PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
export const PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
export const PP2_TYPE_NETNS = 0x30;
export const PP2_TYPE_MIN_CUSTOM = 0xe0;
export const PP2_TYPE_MAX_CUSTOM = 0xef;
export const PP2_CLIENT_SSL = 0x01;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

function hex8(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** UTF-8 text of buf[start, end), or undefined when it is not valid UTF-8. */
function utf8Text(buf: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return utf8.decode(buf.subarray(start, end));
      } catch {
        return undefined;
      }
    }
  }
  return buf.toString('latin1', start, end);
}

const NAMES: Record<number, string> = {
  [PP2_TYPE_ALPN]: 'ALPN',
  [PP2_TYPE_AUTHORITY]: 'AUTHORITY',
  [PP2_TYPE_CRC32C]: 'CRC32C',
  [PP2_TYPE_UNIQUE_ID]: 'UNIQUE_ID',
  [PP2_TYPE_SSL]: 'SSL',
  [PP2_TYPE_NETNS]: 'NETNS',
  [PP2_SUBTYPE_SSL_VERSION]: 'SSL_VERSION',
  [PP2_SUBTYPE_SSL_CN]: 'SSL_CN',
  [PP2_SUBTYPE_SSL_CIPHER]: 'SSL_CIPHER',
  [PP2_SUBTYPE_SSL_SIG_ALG]: 'SSL_SIG_ALG',
  [PP2_SUBTYPE_SSL_KEY_ALG]: 'SSL_KEY_ALG',
};

function duplicate(type: number, offset: number, inSsl: boolean): Malformed {
  return malformed(`v2: ${inSsl ? 'SSL sub-TLV' : 'TLV'} ${hex2(type)} (${NAMES[type] ?? '?'}) at offset ${offset} appears twice`, offset);
}

/**
 * Decodes the TLVs in buf[from, end) into `tlvs`; buf[0, end) is the whole header (for CRC32C).
 * Returns null, or why the header is malformed.
 */
export function parseTlvs(buf: Buffer, from: number, end: number, tlvs: ProxyTlvs): Malformed | null {
  let p = from;
  let crcAt = -1;
  while (p < end) {
    const left = end - p;
    if (left < 3) {
      return malformed(`v2: ${left} trailing byte${left === 1 ? '' : 's'} at offset ${p} cannot hold a TLV (type and length take 3 bytes; header length ${end - 16})`, p);
    }
    const type = buf[p]!;
    const length = (buf[p + 1]! << 8) | buf[p + 2]!;
    const v = p + 3;
    const next = v + length;
    if (next > end) {
      return malformed(`v2: TLV ${hex2(type)} at offset ${p} overruns the header (length ${length}, only ${bytes(end - v)} left)`, p);
    }
    switch (type) {
      case PP2_TYPE_ALPN:
        if (tlvs.alpn !== undefined) return duplicate(type, p, false);
        tlvs.alpn = buf.toString('latin1', v, next);
        break;
      case PP2_TYPE_AUTHORITY: {
        if (tlvs.authority !== undefined) return duplicate(type, p, false);
        const authority = utf8Text(buf, v, next);
        if (authority === undefined) return malformed(`v2: AUTHORITY TLV at offset ${p} is not valid UTF-8`, v);
        tlvs.authority = authority;
        break;
      }
      case PP2_TYPE_CRC32C:
        if (crcAt >= 0) return duplicate(type, p, false);
        if (length !== 4) return malformed(`v2: CRC32C TLV at offset ${p} has length ${length}, expected 4`, p);
        crcAt = v;
        break;
      case PP2_TYPE_UNIQUE_ID:
        if (tlvs.uniqueId !== undefined) return duplicate(type, p, false);
        tlvs.uniqueId = Buffer.from(buf.subarray(v, next));
        break;
      case PP2_TYPE_SSL: {
        if (tlvs.ssl !== undefined) return duplicate(type, p, false);
        const ssl = parseSsl(buf, p, v, next);
        if ('state' in ssl) return ssl;
        tlvs.ssl = ssl;
        break;
      }
      case PP2_TYPE_NETNS:
        if (tlvs.netns !== undefined) return duplicate(type, p, false);
        tlvs.netns = buf.toString('latin1', v, next);
        break;
      default:
        if (type >= PP2_TYPE_MIN_CUSTOM && type <= PP2_TYPE_MAX_CUSTOM) {
          tlvs.custom.push({ type, value: Buffer.from(buf.subarray(v, next)) });
        }
      // NOOP, 0x00 padding and unassigned types: skipped.
    }
    p = next;
  }
  if (crcAt >= 0) {
    const said = buf.readUInt32BE(crcAt);
    let crc = crc32cUpdate(0xffffffff, buf, 0, crcAt);
    crc = crc32cZeros(crc, 4);
    crc = ~crc32cUpdate(crc, buf, crcAt + 4, end) >>> 0;
    if (crc !== said) return malformed(`v2: CRC32C mismatch (header says ${hex8(said)}, computed ${hex8(crc)})`, crcAt - 3);
    tlvs.crc32c = said;
  }
  return null;
}

/** PP2_TYPE_SSL: client flags byte, uint32 verify, then sub-TLVs, all inside buf[v, end). */
function parseSsl(buf: Buffer, at: number, v: number, end: number): SslTlv | Malformed {
  if (end - v < 5) {
    return malformed(`v2: SSL TLV at offset ${at} has length ${end - v}, shorter than its client byte and 4-byte verify field`, at);
  }
  const ssl: SslTlv = { client: buf[v]!, verify: buf.readUInt32BE(v + 1) };
  let p = v + 5;
  while (p < end) {
    const left = end - p;
    if (left < 3) {
      return malformed(`v2: ${left} trailing byte${left === 1 ? '' : 's'} at offset ${p} inside the SSL TLV at offset ${at} cannot hold a sub-TLV`, p);
    }
    const type = buf[p]!;
    const length = (buf[p + 1]! << 8) | buf[p + 2]!;
    const sv = p + 3;
    const next = sv + length;
    if (next > end) {
      return malformed(`v2: SSL sub-TLV ${hex2(type)} at offset ${p} overruns the SSL TLV at offset ${at} (length ${length}, only ${bytes(end - sv)} left)`, p);
    }
    switch (type) {
      case PP2_SUBTYPE_SSL_VERSION:
        if (ssl.version !== undefined) return duplicate(type, p, true);
        ssl.version = buf.toString('latin1', sv, next);
        break;
      case PP2_SUBTYPE_SSL_CN: {
        if (ssl.cn !== undefined) return duplicate(type, p, true);
        const cn = utf8Text(buf, sv, next);
        if (cn === undefined) return malformed(`v2: SSL_CN sub-TLV at offset ${p} is not valid UTF-8`, sv);
        ssl.cn = cn;
        break;
      }
      case PP2_SUBTYPE_SSL_CIPHER:
        if (ssl.cipher !== undefined) return duplicate(type, p, true);
        ssl.cipher = buf.toString('latin1', sv, next);
        break;
      case PP2_SUBTYPE_SSL_SIG_ALG:
        if (ssl.sigAlg !== undefined) return duplicate(type, p, true);
        ssl.sigAlg = buf.toString('latin1', sv, next);
        break;
      case PP2_SUBTYPE_SSL_KEY_ALG:
        if (ssl.keyAlg !== undefined) return duplicate(type, p, true);
        ssl.keyAlg = buf.toString('latin1', sv, next);
        break;
      // other sub-types: skipped
    }
    p = next;
  }
  if ((ssl.client & PP2_CLIENT_SSL) !== 0 && ssl.version === undefined) {
    return malformed(`v2: SSL TLV at offset ${at} sets the client SSL flag (0x01) but has no SSL_VERSION sub-TLV (0x21)`, at);
  }
  return ssl;
}
