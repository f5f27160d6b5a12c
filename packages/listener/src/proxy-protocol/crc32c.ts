/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, slicing by 8. */

const TABLE = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n]!;
  for (let t = 1; t < 8; t++) {
    c = TABLE[c & 0xff]! ^ (c >>> 8);
    TABLE[t * 256 + n] = c;
  }
}

/** Continues a running (pre-inverted) CRC over buf[start, end). Start with 0xFFFFFFFF, finish with `~crc >>> 0`. */
export function crc32cUpdate(crc: number, buf: Uint8Array, start: number, end: number): number {
  let c = crc | 0;
  let i = start;
  const t = TABLE;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** Continues a running CRC over `count` zero bytes. */
export function crc32cZeros(crc: number, count: number): number {
  let c = crc | 0;
  for (let i = 0; i < count; i++) c = TABLE[c & 0xff]! ^ (c >>> 8);
  return c;
}

/** CRC32C of buf[start, end) as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  return ~crc32cUpdate(0xffffffff, buf, start, end) >>> 0;
}
