import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate, crc32cZeros } from './crc32c.ts';

test('CRC32C known answer: "123456789" = 0xE3069283', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('CRC32C of nothing is 0 and of 32 zero bytes is 0x8A9136AA (RFC 3720 B.4)', () => {
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
});

test('CRC32C incremental updates and zero runs equal the one-shot value, at every alignment', () => {
  const data = Buffer.from(Array.from({ length: 301 }, (_, i) => (i * 37 + 11) & 0xff));
  for (let cut = 0; cut <= 40; cut++) {
    const zeroed = Buffer.from(data);
    zeroed.fill(0, cut, cut + 4);
    let c = crc32cUpdate(0xffffffff, data, 0, cut);
    c = crc32cZeros(c, 4);
    c = ~crc32cUpdate(c, data, cut + 4, data.length) >>> 0;
    assert.equal(c, crc32c(zeroed), `cut at ${cut}`);
    assert.equal(crc32c(data, cut, data.length - cut), crc32c(Buffer.from(data.subarray(cut, data.length - cut))));
  }
});
