import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaildirStore } from '@portico/store';
import { maildirPop3Mailbox } from './pop3-mailbox.ts';

test('POP3 over a real Maildir: ids are keys (stable across flag changes), read, idempotent remove', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-pop3-mailbox-'));
  try {
    const store = new MaildirStore({ dataDir, hostname: 'mail.example.test' });
    const mailbox = maildirPop3Mailbox(store);
    const account = 'alice@example.test';
    const text = 'Subject: one\r\n\r\n.dot\r\n';
    const name = await store.deliver(account, Buffer.from(text));
    const [message] = await mailbox.list(account);
    assert.deepEqual(message, { id: name, size: text.length });
    await store.setFlags(account, name, 'S');
    assert.deepEqual(await mailbox.list(account), [message], 'a flag change keeps the id');
    assert.equal((await mailbox.read(account, message!.id))?.toString(), text);
    assert.equal(await mailbox.read(account, 'no-such-message'), undefined);
    assert.equal(await mailbox.remove(account, message!.id), true);
    assert.equal(await mailbox.remove(account, message!.id), false);
    assert.deepEqual(readdirSync(join(dataDir, 'mail', account, 'cur')), []);
    assert.deepEqual(await mailbox.list('nobody@example.test'), []);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
