import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaildirStore } from '@portico/store';
import { maildirImapMailbox, UID_FILE } from './imap-mailbox.ts';

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
