import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaildirStore } from '@portico/store';
import { maildirMailboxAccess } from './mailbox-access.ts';

test('JMAP over a real Maildir: stable ids across flag changes, keywords as flag letters, unknown ids answered', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-mailbox-'));
  try {
    const store = new MaildirStore({ dataDir, hostname: 'mail.example.test' });
    const mailbox = maildirMailboxAccess(store);
    const account = 'alice@example.test';
    await store.deliver(account, Buffer.from('Subject: one\r\n\r\nhello\r\n'));
    const [message] = await mailbox.list(account);
    assert.ok(message);
    assert.deepEqual(message.keywords, []);
    assert.ok(await mailbox.setKeywords(account, message.id, ['$seen', '$flagged']));
    const [after] = await mailbox.list(account);
    assert.equal(after!.id, message.id, 'the id survives the rename to cur/');
    assert.deepEqual([...after!.keywords].sort(), ['$flagged', '$seen']);
    assert.deepEqual(readdirSync(join(dataDir, 'mail', account, 'cur')), [`${message.id}:2,FS`]);
    assert.equal((await mailbox.read(account, message.id))?.toString(), 'Subject: one\r\n\r\nhello\r\n');
    assert.equal(await mailbox.read(account, 'no-such-message'), undefined);
    assert.equal(await mailbox.setKeywords(account, 'no-such-message', ['$seen']), false);
    assert.deepEqual(await mailbox.list('nobody@example.test'), []);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
