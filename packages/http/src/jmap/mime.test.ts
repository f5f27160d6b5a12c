import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWords, parseMessage, parseStructured } from './mime.ts';
import { asAddresses, asDate, asGroupedAddresses, asMessageIds, parseHeaderProperty } from './headers.ts';
import { bodyLists, emailJson, DEFAULT_BODY_PROPERTIES } from './email-view.ts';
import type { EmailRecord } from './state.ts';

const MIXED = [
  'Subject: report',
  'Content-Type: multipart/mixed; boundary=outer',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'r=E9sum=E9',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<b>résumé</b>').toString('base64'),
  '--inner--',
  '--outer',
  'Content-Type: application/pdf',
  "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4').toString('base64'),
  '--outer--',
  '',
].join('\r\n');

test('multipart/mixed with alternative text and an attachment', () => {
  const message = parseMessage(Buffer.from(MIXED));
  assert.equal(message.root.type, 'multipart/mixed');
  assert.equal(message.root.partId, null);
  const { textBody, htmlBody, attachments } = bodyLists(message.root);
  assert.deepEqual(textBody.map((p) => [p.partId, p.type]), [['1', 'text/plain']]);
  assert.deepEqual(htmlBody.map((p) => [p.partId, p.type]), [['2', 'text/html']]);
  assert.deepEqual(attachments.map((p) => [p.partId, p.type, p.name, p.disposition]), [['3', 'application/pdf', 'résumé.pdf', 'attachment']]);
  assert.equal(attachments[0]!.content.toString(), '%PDF-1.4');
  const record: EmailRecord = { storeId: 'x', id: 'Mx', blobId: 'Bx', threadId: 'Tx', size: MIXED.length, receivedAt: 0, keywords: ['$seen'] };
  const json = emailJson(record, message, ['bodyValues', 'hasAttachment', 'bodyStructure', 'keywords'], {
    bodyProperties: DEFAULT_BODY_PROPERTIES,
    fetchTextBodyValues: false,
    fetchHTMLBodyValues: true,
    fetchAllBodyValues: false,
    maxBodyValueBytes: 8,
  });
  assert.deepEqual(json.bodyValues, { '2': { value: '<b>résu', isEncodingProblem: false, isTruncated: true } });
  assert.equal(json.hasAttachment, true);
  assert.deepEqual(json.keywords, { $seen: true });
  const structure = json.bodyStructure as { subParts: { subParts: unknown[] }[] };
  assert.equal(structure.subParts.length, 2);
  assert.equal(structure.subParts[0]!.subParts.length, 2);
  const all = emailJson(record, message, ['bodyValues'], { bodyProperties: DEFAULT_BODY_PROPERTIES, fetchTextBodyValues: true, fetchHTMLBodyValues: false, fetchAllBodyValues: false, maxBodyValueBytes: 0 });
  assert.deepEqual(all.bodyValues, { '1': { value: 'résumé', isEncodingProblem: false, isTruncated: false } });
});

test('a single-part message without headers for MIME is text/plain; bad UTF-8 is an encoding problem', () => {
  const message = parseMessage(Buffer.concat([Buffer.from('Subject: x\n\nbad \xff byte\n', 'latin1')]));
  assert.equal(message.root.type, 'text/plain');
  assert.equal(message.root.partId, '1');
  const record: EmailRecord = { storeId: 'x', id: 'Mx', blobId: 'Bx', threadId: 'Tx', size: 1, receivedAt: 0, keywords: [] };
  const json = emailJson(record, message, ['bodyValues', 'subject'], { bodyProperties: DEFAULT_BODY_PROPERTIES, fetchTextBodyValues: true, fetchHTMLBodyValues: false, fetchAllBodyValues: false, maxBodyValueBytes: 0 });
  assert.equal(json.subject, 'x');
  assert.equal((json.bodyValues as Record<string, { isEncodingProblem: boolean }>)['1']!.isEncodingProblem, true);
});

test('headers: encoded words, parameters, addresses, groups, message ids, dates', () => {
  assert.equal(decodeWords('=?ISO-8859-1?Q?Andr=E9?= Pirard'), 'André Pirard');
  assert.equal(decodeWords('=?utf-8?B?w6k=?=  =?utf-8?B?w6k=?='), 'éé');
  const ct = parseStructured(' text/plain; charset="utf-8"; name*0*=utf-8\'\'a%C3%A9; name*1=".txt"');
  assert.equal(ct.value, 'text/plain');
  assert.equal(ct.params.get('charset'), 'utf-8');
  assert.equal(ct.params.get('name'), 'aé.txt');
  assert.deepEqual(asAddresses(' "Smith, J" <j@x.test>, k@y.test (Kay), <l@z.test>'), [
    { name: 'Smith, J', email: 'j@x.test' },
    { name: 'Kay', email: 'k@y.test' },
    { name: null, email: 'l@z.test' },
  ]);
  assert.deepEqual(asGroupedAddresses(' a@x.test, Team: b@x.test, c@x.test;'), [
    { name: null, addresses: [{ name: null, email: 'a@x.test' }] },
    { name: 'Team', addresses: [{ name: null, email: 'b@x.test' }, { name: null, email: 'c@x.test' }] },
  ]);
  assert.deepEqual(asMessageIds(' <a@b>\r\n <c@d>'), ['a@b', 'c@d']);
  assert.equal(asMessageIds(' nothing'), null);
  assert.equal(asDate(' Fri, 21 Nov 1997 09:55:06 -0600 (CST)'), '1997-11-21T15:55:06Z');
  assert.equal(asDate(' soon'), null);
  assert.deepEqual(parseHeaderProperty('header:List-Id:asText:all'), { name: 'List-Id', form: 'Text', all: true });
  assert.equal(parseHeaderProperty('header:X:asNothing'), undefined);
  assert.equal(parseHeaderProperty('header:X:all:asText'), undefined);
});
