import { test } from 'node:test';
import assert from 'node:assert/strict';
import { literalAtEnd, parseCommand, ParseError, tokenize } from './parser.ts';
import { inSequenceSet, parseSequenceSet } from './sequence.ts';
import { parseFetchItems, sectionBytes } from './fetch-items.ts';

test('commands: tag, upper-cased name, atoms, quoted strings with escapes, nested lists', () => {
  const c = parseCommand('a1 login alice "p\\"a\\\\ss word"');
  assert.deepEqual(c, { tag: 'a1', name: 'LOGIN', args: [{ kind: 'atom', value: 'alice' }, { kind: 'string', value: 'p"a\\ss word' }] });
  assert.deepEqual(tokenize('1:* (FLAGS (X Y) UID)'), [
    { kind: 'atom', value: '1:*' },
    { kind: 'list', items: [{ kind: 'atom', value: 'FLAGS' }, { kind: 'list', items: [{ kind: 'atom', value: 'X' }, { kind: 'atom', value: 'Y' }] }, { kind: 'atom', value: 'UID' }] },
  ]);
  // A fetch section with spaces and parentheses is one atom.
  assert.deepEqual(tokenize('BODY.PEEK[HEADER.FIELDS (FROM TO)] UID'), [{ kind: 'atom', value: 'BODY.PEEK[HEADER.FIELDS (FROM TO)]' }, { kind: 'atom', value: 'UID' }]);
  for (const bad of ['', 'a', '+ NOOP', 'a LOGIN "open', 'a X (1 2', 'a X )', 'a X  Y']) {
    assert.throws(() => parseCommand(bad), ParseError, JSON.stringify(bad));
  }
  assert.equal((() => { try { parseCommand('t9 LOGIN "x'); } catch (e) { return (e as ParseError).tag; } })(), 't9');
});

test('literals: announced at the end of a line, taken in order, the rest of the line continues after them', () => {
  assert.deepEqual(literalAtEnd('a LOGIN {5}'), { size: 5, sync: true });
  assert.deepEqual(literalAtEnd('a LOGIN {5+}'), { size: 5, sync: false });
  assert.equal(literalAtEnd('a LOGIN "{5}"x'), undefined);
  const c = parseCommand('a LOGIN {5} {6}', ['alice', 'se cr"']);
  assert.deepEqual(c.args, [{ kind: 'string', value: 'alice' }, { kind: 'string', value: 'se cr"' }]);
  assert.throws(() => parseCommand('a LOGIN {5}', []), ParseError);
  assert.throws(() => parseCommand('a LOGIN x', ['extra']), ParseError);
});

test('sequence sets: numbers, ranges either way round, star, lists; garbage refused', () => {
  assert.deepEqual(parseSequenceSet('1:*', 7), [{ from: 1, to: 7 }]);
  assert.deepEqual(parseSequenceSet('4:2,9', 7), [{ from: 2, to: 4 }, { from: 9, to: 9 }]);
  const set = parseSequenceSet('1,3:4,*', 10)!;
  assert.deepEqual([1, 2, 3, 4, 5, 10].map((n) => inSequenceSet(set, n)), [true, false, true, true, false, true]);
  for (const bad of ['', '0', '1:', ':2', '1::2', 'a', '1,,2', '01', '1:2:3', '99999999999']) assert.equal(parseSequenceSet(bad, 5), undefined, bad);
});

test('fetch items: simple items, macros, body sections with peek and partial, MIME part numbers', () => {
  const items = parseFetchItems(tokenize('(UID FLAGS RFC822.SIZE BODY.PEEK[] BODY[HEADER]<0.10> RFC822.HEADER)'));
  assert.ok(Array.isArray(items));
  assert.deepEqual(items.map((i) => (i.kind === 'body' ? `${i.name}${i.peek ? ' peek' : ''}` : i.kind)), ['uid', 'flags', 'size', 'BODY[] peek', 'BODY[HEADER]<0> ', 'RFC822.HEADER peek'].map((s) => s.trim()));
  assert.deepEqual(parseFetchItems(tokenize('FAST')), [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }]);
  assert.deepEqual(parseFetchItems(tokenize('ALL')), [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }, { kind: 'envelope' }]);
  assert.deepEqual(parseFetchItems(tokenize('FULL')), [{ kind: 'flags' }, { kind: 'internaldate' }, { kind: 'size' }, { kind: 'envelope' }, { kind: 'bodyshape' }]);
  assert.deepEqual(parseFetchItems(tokenize('(ENVELOPE BODYSTRUCTURE BODY)')), [{ kind: 'envelope' }, { kind: 'bodystructure' }, { kind: 'bodyshape' }]);
  const parts = parseFetchItems(tokenize('(BODY[1.2] BODY.PEEK[1.mime] BODY[3.HEADER.FIELDS (Subject)]<0.5> BODY[2.TEXT])'));
  assert.ok(Array.isArray(parts));
  assert.deepEqual(
    parts.map((i) => (i.kind === 'body' ? [i.name, i.part.join('.'), i.section.kind] : [])),
    [['BODY[1.2]', '1.2', 'full'], ['BODY[1.MIME]', '1', 'mime'], ['BODY[3.HEADER.FIELDS (SUBJECT)]<0>', '3', 'fields'], ['BODY[2.TEXT]', '2', 'text']],
  );
  for (const bad of ['BODY[MIME]', 'BODY[0]', 'BODY[1.]', 'BODY[1.0]', 'BODY[1.FOO]', 'BODY[01]', 'BODYSTRUCTURE[1]']) {
    assert.ok('error' in (parseFetchItems(tokenize(bad)) as object), bad);
  }
});

test('sections: header with its blank line, text, header fields with folding', () => {
  const message = Buffer.from('From: a@x\r\nSubject: hi\r\n there\r\nTo: b@y\r\n\r\nBody\r\n');
  assert.equal(sectionBytes(message, { kind: 'header' }).toString(), 'From: a@x\r\nSubject: hi\r\n there\r\nTo: b@y\r\n\r\n');
  assert.equal(sectionBytes(message, { kind: 'text' }).toString(), 'Body\r\n');
  assert.equal(sectionBytes(message, { kind: 'fields', not: false, names: ['SUBJECT'] }).toString(), 'Subject: hi\r\n there\r\n\r\n');
  assert.equal(sectionBytes(message, { kind: 'fields', not: true, names: ['SUBJECT'] }).toString(), 'From: a@x\r\nTo: b@y\r\n\r\n');
});
