import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaildirStore } from '@portico/store';
import { maildirImapMailbox, UID_FILE } from './imap-mailbox.ts';
import type { MaildirForImap } from './imap-mailbox.ts';

test('UIDs: assigned in list order, stable across adapters, never reused; flags map to Maildir letters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-imap-uids-'));
  try {
    const store = new MaildirStore({ dataDir: dir, hostname: 'test' });
    const a = 'a@example.test';
    const empty = await maildirImapMailbox(store, () => 1_700_000_000_000).list(a);
    assert.deepEqual(empty, { uidValidity: 1_700_000_000, uidNext: 1, messages: [] });
    await store.deliver(a, Buffer.from('Subject: 1\r\n\r\none\r\n'));
    await store.deliver(a, Buffer.from('Subject: 2\r\n\r\ntwo\r\n'));
    const box = maildirImapMailbox(store);
    const first = await box.list(a);
    assert.equal(first.uidValidity, 1_700_000_000, 'the map on disk wins over the clock');
    assert.deepEqual(first.messages.map((m) => m.uid), [1, 2]);
    assert.equal((await box.read(a, 2))?.toString(), 'Subject: 2\r\n\r\ntwo\r\n');
    assert.ok(await box.setFlags(a, 1, ['\\Seen', '\\Deleted']));
    const again = await maildirImapMailbox(store).list(a);
    assert.deepEqual(again.messages.map((m) => [m.uid, m.flags]), [[1, ['\\Seen', '\\Deleted']], [2, []]]);
    assert.match((await store.list(a)).map((m) => m.id).join(), /:2,ST/);
    await box.expunge(a, [1]);
    await store.deliver(a, Buffer.from('Subject: 3\r\n\r\nthree\r\n'));
    const after = await box.list(a);
    assert.deepEqual(after.messages.map((m) => m.uid), [2, 3], 'an expunged UID is never given again');
    assert.equal(after.uidNext, 4);
    assert.equal(await box.read(a, 1), undefined);
    assert.equal(await box.setFlags(a, 1, []), false);
    const map = JSON.parse(readFileSync(join(store.pathOf(a), UID_FILE), 'utf8')) as { uids: Record<string, number> };
    assert.deepEqual(Object.values(map.uids).sort(), [2, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UID map: a map that cannot be read now (not missing, not damaged) is kept, the error thrown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-imap-uids-'));
  try {
    const store = new MaildirStore({ dataDir: dir, hostname: 'test' });
    const a = 'a@example.test';
    await store.deliver(a, Buffer.from('Subject: 1\r\n\r\none\r\n'));
    const box = maildirImapMailbox(store, () => 1_700_000_000_000);
    assert.equal((await box.list(a)).uidValidity, 1_700_000_000);
    // EISDIR stands in for EMFILE / EACCES (the tests may run as root).
    const file = join(store.pathOf(a), UID_FILE);
    const saved = readFileSync(file);
    rmSync(file);
    mkdirSync(file);
    await assert.rejects(maildirImapMailbox(store, () => 1_800_000_000_000).list(a), /EISDIR/);
    rmSync(file, { recursive: true });
    writeFileSync(file, saved);
    assert.equal((await maildirImapMailbox(store, () => 1_800_000_000_000).list(a)).uidValidity, 1_700_000_000, 'the good map survived');
    // Damaged JSON, or a uidNext not above every UID: a new UIDVALIDITY.
    writeFileSync(file, '{"uidValidity": 5, "uidN');
    assert.equal((await maildirImapMailbox(store, () => 1_800_000_000_000).list(a)).uidValidity, 1_800_000_000);
    const key = Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { uids: object }).uids)[0]!;
    writeFileSync(file, JSON.stringify({ uidValidity: 7, uidNext: 3, uids: { [key]: 3 } }));
    const fresh = await maildirImapMailbox(store, () => 1_900_000_000_000).list(a);
    assert.equal(fresh.uidValidity, 1_900_000_000);
    assert.deepEqual(fresh.messages.map((m) => m.uid), [1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot: a message listed twice (new/ and cur/) gets one UID; keys like __proto__ are plain keys', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-imap-uids-'));
  try {
    const files: string[] = ['__proto__', 'constructor', 'm1', 'm1:2,S'];
    const fake: MaildirForImap = {
      pathOf: () => dir,
      list: async () => files.map((id) => ({ id, folder: id.includes(':2,') ? 'cur' : 'new', size: 3, mtimeMs: 0 }) as Awaited<ReturnType<MaildirForImap['list']>>[number]),
      readByKey: async (_a: string, key: string) => Buffer.from(`body of ${key}`),
      updateFlags: async () => true,
      remove: async () => {},
    } as unknown as MaildirForImap;
    const box = maildirImapMailbox(fake, () => 1_700_000_000_000);
    const first = await box.list('a');
    assert.deepEqual(first.messages.map((m) => m.uid), [1, 2, 3]);
    assert.equal(first.uidNext, 4);
    const again = await maildirImapMailbox(fake).list('a');
    assert.deepEqual(again.messages.map((m) => m.uid), [1, 2, 3], 'stable: __proto__ and constructor kept their UIDs');
    assert.equal(again.uidNext, 4);
    assert.equal((await box.read('a', 1))?.toString(), 'body of __proto__');
    assert.equal((await box.read('a', 2))?.toString(), 'body of constructor');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
