import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataReader } from './data-reader.ts';
import type { DataResult } from './data-reader.ts';

function feed(input: string | Buffer, max = 1_000_000, chunkSize = 0): DataResult | undefined {
  const reader = new DataReader(max);
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
  if (chunkSize === 0) return reader.push(bytes);
  for (let i = 0; i < bytes.length; i += chunkSize) {
    const r = reader.push(bytes.subarray(i, i + chunkSize));
    if (r) return r;
  }
  return undefined;
}

test('CRLF.CRLF ends the data, the rest is handed back, dots are unstuffed', () => {
  for (const chunk of [0, 1, 2, 3, 7]) {
    const r = feed('a\r\n..b\r\n.c\r\n\r\n.\r\nQUIT\r\n', 100, chunk);
    assert.ok(r, `chunk ${chunk}`);
    assert.equal(r.message.toString(), 'a\r\n.b\r\nc\r\n\r\n');
    if (chunk === 0) assert.equal(r.rest.toString(), 'QUIT\r\n');
    assert.equal(r.bareLineEnding, false);
    assert.equal(r.tooBig, false);
  }
  assert.equal(feed('.\r\n')?.message.length, 0);
});

const SMUGGLING_ENDINGS = ['\n.\n', '\n.\r\n', '\r.\r', '\r.\r\n', '\r\n.\n', '\r\n.\r', '\n.\r', '\r\n\x00.\r\n'];

test('no smuggling ending ends the data; bare CR/LF marks the message', () => {
  for (const ending of SMUGGLING_ENDINGS) {
    for (const chunk of [0, 1, 5]) {
      const smuggled = `body${ending}MAIL FROM:<admin@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nsmuggled\r\n`;
      assert.equal(feed(smuggled, 10_000, chunk), undefined, JSON.stringify(ending));
      const r = feed(smuggled + '.\r\n', 10_000, chunk);
      assert.ok(r, JSON.stringify(ending));
      assert.equal(r.rest.length, 0);
      if (ending.includes('\x00')) continue; // NUL is content, not a line ending
      assert.equal(r.bareLineEnding, true, JSON.stringify(ending));
    }
  }
});

test('size is enforced while streaming, also for a single huge line', () => {
  const r = feed('x'.repeat(50) + '\r\n' + 'y'.repeat(60) + '\r\n.\r\n', 100);
  assert.ok(r?.tooBig);
  assert.equal(r.message.length, 0);
  assert.equal(r.size, 114);
  const huge = Buffer.alloc(300_000, 'z');
  const reader = new DataReader(1000);
  for (let i = 0; i < huge.length; i += 1000) assert.equal(reader.push(huge.subarray(i, i + 1000)), undefined);
  // A lone "." after a dropped line head is not a terminator; the next CRLF.CRLF is.
  assert.equal(reader.push(Buffer.from('.\r\n')), undefined);
  const end = reader.push(Buffer.from('.\r\n'));
  assert.ok(end?.tooBig);
});
