import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multilineBody, multilineText, topOf } from './multiline.ts';
import { parseNumber, uidOf } from './maildrop.ts';

const wire = (body: string) => Buffer.concat(multilineBody(Buffer.from(body))).toString('latin1');

test('RETR body: lines starting with "." are stuffed, CRLF kept, terminator added', () => {
  assert.equal(wire('Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n'), 'Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n');
  assert.equal(wire('.\r\n'), '..\r\n.\r\n', 'a lone dot line cannot end the response early');
  assert.equal(wire('no final newline'), 'no final newline\r\n.\r\n');
  assert.equal(wire('bare\nlf\n.x\n'), 'bare\r\nlf\r\n..x\r\n.\r\n', 'bare LF goes out as CRLF');
  assert.equal(wire(''), '.\r\n');
});

test('text responses are stuffed too', () => {
  assert.equal(multilineText(['TOP', '.odd']), 'TOP\r\n..odd\r\n.\r\n');
  assert.equal(multilineText([]), '.\r\n');
});

test('TOP: header, the empty line, then n body lines', () => {
  const m = Buffer.from('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n');
  assert.equal(topOf(m, 0).toString(), 'A: 1\r\nB: 2\r\n\r\n');
  assert.equal(topOf(m, 2).toString(), 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n');
  assert.equal(topOf(m, 99).toString(), m.toString());
  assert.equal(topOf(Buffer.from('A: 1\r\nB: 2\r\n'), 5).toString(), 'A: 1\r\nB: 2\r\n', 'no body at all');
});

test('UIDL: the Maildir key when valid, else a stable digest; message numbers', () => {
  assert.equal(uidOf('1700000000.M1P2Q3R4.host,S=10'), '1700000000.M1P2Q3R4.host,S=10');
  const long = 'x'.repeat(71);
  assert.equal(uidOf(long), uidOf(long));
  assert.match(uidOf(long), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(parseNumber('3'), 3);
  assert.equal(parseNumber('0'), undefined);
  assert.equal(parseNumber('0', true), 0);
  assert.equal(parseNumber('-1'), undefined);
  assert.equal(parseNumber('1x'), undefined);
  assert.equal(parseNumber(undefined), undefined);
});

test('a message of a million "." lines is stuffed into one buffer, not millions of pieces', () => {
  const planted = Buffer.from('.\n'.repeat(1_000_000));
  const parts = multilineBody(planted);
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.length, 4 * 1_000_000);
  assert.equal(parts[0]!.subarray(0, 8).toString(), '..\r\n..\r\n');
  assert.equal(parts[1]!.toString(), '.\r\n');
});
