import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyStructure, envelope, findPart, imapString, parseStructure } from './mime-structure.ts';
import { bodyItemBytes, parseFetchItems } from './fetch-items.ts';
import type { FetchItem } from './fetch-items.ts';
import { tokenize } from './parser.ts';

/** The message of RFC 3501 7.4.2's ENVELOPE example, with a short body. */
const RFC_EXAMPLE = [
  'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  'From: Terry Gray <gray@cac.washington.edu>',
  'Subject: IMAP4rev1 WG mtg summary and minutes',
  'To: imap@cac.washington.edu',
  'cc: minutes@CNRI.Reston.VA.US,',
  '        John Klensin <KLENSIN@MIT.EDU>',
  'Message-Id: <B27397-0100000@cac.washington.edu>',
  'MIME-Version: 1.0',
  'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
  '',
  'line one',
  'line two',
  '',
].join('\r\n');

const MIXED = [
  'From: "Doe, J" <j@x.test>',
  'To: Team: a@x.test, "B \\"q\\"" <b@y.test>;, c@z.test',
  'Subject: =?utf-8?Q?caf=C3=A9?=',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'hi',
  '--inner',
  'Content-Type: text/html',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<b>hi</b>',
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="a.pdf"',
  'Content-Disposition: attachment; filename="a.pdf"',
  'Content-Transfer-Encoding: base64',
  'Content-ID: <c1@x>',
  'Content-Description: the file',
  'Content-Language: en, de',
  '',
  'JVBERi0xLjQ=',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  'From: x@y.test',
  '',
  'inner body',
  '--outer--',
  'epilogue',
  '',
].join('\r\n');

function structureOf(text: string, extensible = true): string {
  return bodyStructure(parseStructure(Buffer.from(text, 'latin1')), extensible);
}

function section(message: string, spec: string): string | undefined {
  const items = parseFetchItems(tokenize(`BODY[${spec}]`)) as FetchItem[];
  const item = items[0] as Extract<FetchItem, { kind: 'body' }>;
  const raw = Buffer.from(message, 'latin1');
  return bodyItemBytes(raw, item, () => parseStructure(raw))?.toString('latin1');
}

test('simple text/plain: the ENVELOPE of RFC 3501 7.4.2, BODYSTRUCTURE and BODY with size and lines', () => {
  const root = parseStructure(Buffer.from(RFC_EXAMPLE));
  assert.equal(
    envelope(root.headers),
    '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
      '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")',
  );
  assert.equal(bodyStructure(root, true), '("TEXT" "PLAIN" ("charset" "US-ASCII") NIL NIL "7BIT" 20 2 NIL NIL NIL NIL)');
  assert.equal(bodyStructure(root, false), '("TEXT" "PLAIN" ("charset" "US-ASCII") NIL NIL "7BIT" 20 2)');
  assert.equal(section(RFC_EXAMPLE, '1'), 'line one\r\nline two\r\n', 'a single-part message has part 1, its body');
  assert.equal(section(RFC_EXAMPLE, '1.MIME')?.startsWith('Date: '), true);
  assert.equal(section(RFC_EXAMPLE, '2'), undefined);
  assert.equal(section(RFC_EXAMPLE, '1.1'), undefined, 'a leaf has no parts');
});

test('no Content-Type: text/plain; charset us-ascii; no header at all', () => {
  assert.equal(structureOf('Subject: x\r\n\r\nhello\r\n'), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)');
  assert.equal(structureOf('\r\nbody'), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 4 1 NIL NIL NIL NIL)');
  assert.equal(structureOf(''), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)');
});

test('multipart/mixed: nested alternative, attachment with id, description, disposition, languages, message/rfc822', () => {
  assert.equal(
    structureOf(MIXED),
    '((("text" "plain" ("charset" "utf-8") NIL NIL "7BIT" 2 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "quoted-printable" 9 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)' +
      '("application" "pdf" ("name" "a.pdf") "<c1@x>" "the file" "base64" 12 NIL ("attachment" ("filename" "a.pdf")) ("en" "de") NIL)' +
      '("message" "rfc822" NIL NIL NIL "7BIT" 44 (NIL "inner" ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) NIL NIL NIL NIL NIL) ' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)',
  );
  assert.equal(
    structureOf(MIXED, false),
    '((("text" "plain" ("charset" "utf-8") NIL NIL "7BIT" 2 1)("text" "html" NIL NIL NIL "quoted-printable" 9 1) "alternative")' +
      '("application" "pdf" ("name" "a.pdf") "<c1@x>" "the file" "base64" 12)' +
      '("message" "rfc822" NIL NIL NIL "7BIT" 44 (NIL "inner" ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) ((NIL NIL "x" "y.test")) NIL NIL NIL NIL NIL) ' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 10 1) 4) "mixed")',
  );
  // Encoded words stay as they are; a group is framed by (NIL NIL "name" NIL) ... (NIL NIL NIL NIL).
  assert.equal(
    envelope(parseStructure(Buffer.from(MIXED)).headers),
    '(NIL "=?utf-8?Q?caf=C3=A9?=" (("Doe, J" NIL "j" "x.test")) (("Doe, J" NIL "j" "x.test")) (("Doe, J" NIL "j" "x.test")) ' +
      '((NIL NIL "Team" NIL)(NIL NIL "a" "x.test")("B \\"q\\"" NIL "b" "y.test")(NIL NIL NIL NIL)(NIL NIL "c" "z.test")) NIL NIL NIL NIL)',
  );
});

test('part sections: numbers, MIME headers, the enclosed message of message/rfc822', () => {
  assert.equal(section(MIXED, '1.1'), 'hi');
  assert.equal(section(MIXED, '1.2'), '<b>hi</b>');
  assert.equal(section(MIXED, '1.2.MIME'), 'Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  assert.equal(section(MIXED, '2'), 'JVBERi0xLjQ=');
  assert.ok(section(MIXED, '1')!.startsWith('--inner\r\n') && section(MIXED, '1')!.endsWith('--inner--'));
  assert.equal(section(MIXED, '3'), 'Subject: inner\r\nFrom: x@y.test\r\n\r\ninner body');
  assert.equal(section(MIXED, '3.HEADER'), 'Subject: inner\r\nFrom: x@y.test\r\n\r\n');
  assert.equal(section(MIXED, '3.TEXT'), 'inner body');
  assert.equal(section(MIXED, '3.HEADER.FIELDS (FROM)'), 'From: x@y.test\r\n\r\n');
  assert.equal(section(MIXED, '3.1'), 'inner body');
  assert.equal(section(MIXED, '3.MIME'), 'Content-Type: message/rfc822\r\n\r\n');
  assert.equal(section(MIXED, '2.HEADER'), '', 'HEADER of a part that is not message/rfc822: empty');
  for (const missing of ['4', '1.3', '3.2', '2.1', '1.1.1', '3.1.1']) assert.equal(section(MIXED, missing), undefined, missing);
  const root = parseStructure(Buffer.from(MIXED));
  assert.equal(findPart(root, [])?.parts?.length, 3);
});

test('missing or unused boundaries, bare LF, malformed headers, deep nesting: never throw', () => {
  assert.equal(structureOf('Content-Type: multipart/mixed\r\n\r\nhello\r\n'), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)');
  assert.equal(structureOf('Content-Type: multipart/mixed; boundary=b\r\n\r\nno parts'), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 8 1 NIL NIL NIL NIL)');
  // No closing delimiter: the last part runs to the end.
  assert.equal(structureOf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\nContent-Type: image/png\n\nPNG'), '(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 1 1 NIL NIL NIL NIL)("image" "png" NIL NIL NIL "7BIT" 3 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)');
  assert.equal(structureOf('no colon here\r\n: empty\r\nContent-Type: ;;;\r\nContent-Disposition: (x\r\n\r\nbody'), '("text" "plain" NIL NIL NIL "7BIT" 4 1 NIL NIL NIL NIL)');
  assert.equal(structureOf('Content-Type: text/\r\nContent-Language:\r\n\r\n'), '("text" "plain" NIL NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)');
  let deep = 'x';
  for (let i = 0; i < 40; i++) deep = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${deep}\r\n--b${i}--\r\n`;
  assert.match(structureOf(deep), /^\(+/);
  for (let n = 0; n < 200; n++) {
    const junk = Buffer.from(Array.from({ length: 80 }, (_, i) => '-:\r\n;="(<>@b '.charCodeAt((i * 7 + n * 13) % 14)));
    assert.doesNotThrow(() => bodyStructure(parseStructure(Buffer.concat([Buffer.from('Content-Type: multipart/mixed; boundary=b\r\nTo: '), junk])), true));
    assert.doesNotThrow(() => envelope(parseStructure(junk).headers));
  }
});

test('strings: quoted with escapes, literals for CR, LF, 8-bit; RFC 2231 parameters; addresses without a domain', () => {
  assert.equal(imapString('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(imapString('caf\u00e9'), '{5}\r\ncaf\u00e9');
  assert.equal(imapString('a\r\nb'), '{4}\r\na\r\nb');
  const message = "Subject: caf\xc3\xa9\r\nTo: undisclosed-recipients:;\r\nFrom: <>, bare\r\nContent-Type: text/plain; name*0*=utf-8''a%C3%A9; name*1=\".txt\"\r\n\r\n";
  const root = parseStructure(Buffer.from(message, 'latin1'));
  assert.equal(
    envelope(root.headers),
    '(NIL {5}\r\ncaf\u00e9 ((NIL NIL "bare" ".MISSING-HOST-NAME.")) ((NIL NIL "bare" ".MISSING-HOST-NAME.")) ((NIL NIL "bare" ".MISSING-HOST-NAME.")) ' +
      '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
  );
  assert.equal(bodyStructure(root, true), '("text" "plain" ("name" {7}\r\na\u00e9.txt) NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)');
});
