import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaildirStore, mailboxName, messageFlags, messageKey } from './maildir.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('deliver writes into new/ through tmp/ and answers the file name', async (t) => {
  const dataDir = await tempDir(t);
  const store = new MaildirStore({ dataDir, hostname: 'host/a:b' });
  const message = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
  const name = await store.deliver('Alice@Example.TEST', message);
  const dir = join(dataDir, 'mail', 'alice@example.test');
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  assert.deepEqual(await readdir(join(dir, 'cur')), []);
  assert.deepEqual(await readdir(join(dir, 'new')), [name]);
  assert.match(name, /^\d+\.M\d+P\d+Q\d+R[0-9a-f]{16}\.host\\057a\\072b,S=21$/);
  assert.deepEqual(await readFile(join(dir, 'new', name)), message);
});

test('names are unique across many concurrent deliveries', async (t) => {
  const store = new MaildirStore({ dataDir: await tempDir(t) });
  const names = await Promise.all(Array.from({ length: 50 }, (_, i) => store.deliver('bob@example.test', Buffer.from(`m${i}`))));
  assert.equal(new Set(names).size, 50);
  const listed = await store.list('bob@example.test');
  assert.equal(listed.length, 50);
  assert.ok(listed.every((m) => m.folder === 'new'));
});

test('list and read', async (t) => {
  const store = new MaildirStore({ dataDir: await tempDir(t) });
  assert.deepEqual(await store.list('nobody@example.test'), []);
  const id = await store.deliver('carol@example.test', Buffer.from('hello'));
  const [only] = await store.list('carol@example.test');
  assert.equal(only?.id, id);
  assert.equal(only?.size, 5);
  assert.equal((await store.read('carol@example.test', id)).toString(), 'hello');
  await assert.rejects(store.read('carol@example.test', 'nope'), { code: 'PORTICO_ERR_STORE_MESSAGE_NOT_FOUND' });
  await assert.rejects(store.read('carol@example.test', '../../etc/passwd'), { code: 'PORTICO_ERR_STORE_INVALID_MESSAGE_ID' });
});

test('addresses that could escape the mail directory are refused', async (t) => {
  const store = new MaildirStore({ dataDir: await tempDir(t) });
  for (const bad of ['../x@example.test', 'a/b@example.test', 'noat', '.hidden@example.test', 'a@b/c', '']) {
    assert.throws(() => mailboxName(bad), { code: 'PORTICO_ERR_STORE_INVALID_ADDRESS' }, bad);
    await assert.rejects(store.deliver(bad, Buffer.from('x')), { code: 'PORTICO_ERR_STORE_INVALID_ADDRESS' });
  }
});

test('a failed write throws and leaves nothing in new/ or tmp/', async (t) => {
  const dataDir = await tempDir(t);
  const store = new MaildirStore({ dataDir });
  await store.ensureMaildir('dave@example.test');
  const dir = join(dataDir, 'mail', 'dave@example.test');
  // A directory where the message file should be makes rename fail even for root.
  await rm(join(dir, 'new'), { recursive: true });
  await writeFile(join(dir, 'new'), 'not a directory');
  await assert.rejects(store.deliver('dave@example.test', Buffer.from('x')), { code: 'PORTICO_ERR_STORE_DELIVERY_FAILED' });
  assert.deepEqual(await readdir(join(dir, 'tmp')), []);
});

test('setFlags moves a message to cur/ with sorted flags, found by key or by current name', async (t) => {
  const dataDir = await tempDir(t);
  const store = new MaildirStore({ dataDir });
  const id = await store.deliver('erin@example.test', Buffer.from('hello'));
  const seen = await store.setFlags('erin@example.test', id, 'SFS');
  assert.equal(seen, `${id}:2,FS`);
  assert.equal(messageKey(seen), id);
  assert.equal(messageFlags(seen), 'FS');
  const dir = join(dataDir, 'mail', 'erin@example.test');
  assert.deepEqual(await readdir(join(dir, 'new')), []);
  assert.deepEqual(await readdir(join(dir, 'cur')), [seen]);
  const [listed] = await store.list('erin@example.test');
  assert.equal(listed?.id, seen);
  assert.equal(listed?.folder, 'cur');
  assert.equal((await store.read('erin@example.test', seen)).toString(), 'hello');
  assert.equal(await store.setFlags('erin@example.test', seen, ''), `${id}:2,`);
  await assert.rejects(store.setFlags('erin@example.test', 'missing', 'S'), { code: 'PORTICO_ERR_STORE_MESSAGE_NOT_FOUND' });
  await assert.rejects(store.setFlags('erin@example.test', id, 'S/'), { code: 'PORTICO_ERR_STORE_INVALID_MESSAGE_ID' });
  await assert.rejects(store.setFlags('erin@example.test', '../x', 'S'), { code: 'PORTICO_ERR_STORE_INVALID_MESSAGE_ID' });
});

test('remove deletes a message by key or file name, in new/ or cur/, and answers false when it is gone', async (t) => {
  const store = new MaildirStore({ dataDir: await tempDir(t), hostname: 'mail.example.test' });
  const first = await store.deliver('alice@example.test', Buffer.from('Subject: 1\r\n\r\n'));
  const second = await store.deliver('alice@example.test', Buffer.from('Subject: 2\r\n\r\n'));
  const renamed = await store.setFlags('alice@example.test', second, 'S');
  assert.equal(await store.remove('alice@example.test', messageKey(first)), true);
  assert.equal(await store.remove('alice@example.test', renamed), true);
  assert.equal(await store.remove('alice@example.test', renamed), false);
  assert.deepEqual(await store.list('alice@example.test'), []);
  await assert.rejects(store.remove('alice@example.test', '../escape'), { code: 'PORTICO_ERR_STORE_INVALID_MESSAGE_ID' });
});

test('readByKey and updateFlags find a message by key whatever its flags, and answer undefined/false once it is gone', async (t) => {
  const store = new MaildirStore({ dataDir: await tempDir(t), hostname: 'mail.example.test' });
  const name = await store.deliver('alice@example.test', Buffer.from('Subject: k\r\n\r\n'));
  const key = messageKey(name);
  assert.equal((await store.readByKey('alice@example.test', key))?.toString(), 'Subject: k\r\n\r\n');
  assert.equal(await store.updateFlags('alice@example.test', key, (current) => `${current}SP`), true);
  assert.equal(await store.updateFlags('alice@example.test', key, (current) => current.replace('S', '')), true);
  assert.equal(await store.currentName('alice@example.test', key), `${key}:2,P`);
  assert.equal((await store.readByKey('alice@example.test', key))?.toString(), 'Subject: k\r\n\r\n');
  await store.remove('alice@example.test', key);
  assert.equal(await store.readByKey('alice@example.test', key), undefined);
  assert.equal(await store.updateFlags('alice@example.test', key, () => 'S'), false);
});
