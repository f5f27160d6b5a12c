import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient, startHarness } from './test-support.ts';
import type { Harness } from './test-support.ts';

/**
 * The published SMTP smuggling payloads (SEC Consult, Dec 2023; CVE-2023-51764/51765/51766): a
 * message whose content ends with a non-standard end-of-data sequence followed by a second,
 * spoofed transaction. None may end DATA; the whole thing is one message, refused for its bare CR/LF.
 */
const ENDINGS: Record<string, string> = {
  'LF.LF': '\n.\n',
  'LF.CRLF': '\n.\r\n',
  'CR.CR': '\r.\r',
  'CR.CRLF': '\r.\r\n',
  'CRLF.LF': '\r\n.\n',
  'CRLF.CR': '\r\n.\r',
  'LF.CR': '\n.\r',
};

let h: Harness;
before(async () => {
  h = await startHarness({ options: { limits: { maxErrors: 100 } } });
});
after(() => h.close());

for (const [name, ending] of Object.entries(ENDINGS)) {
  for (const split of [false, true]) {
    test(`smuggling ${name}${split ? ' (one byte per write)' : ''}: refused as one message, nothing stored, no smuggled command runs`, async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO attacker.example');
      await c.command('MAIL FROM:<user@attacker.example>');
      await c.command('RCPT TO:<alice@example.test>');
      assert.equal(await c.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      const payload =
        'From: user@attacker.example\r\nSubject: first\r\n\r\nfirst body' +
        ending +
        'MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nFrom: admin@example.test\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\n';
      if (split) {
        for (const byte of Buffer.from(payload)) c.write(Buffer.from([byte]));
      } else {
        c.write(payload);
      }
      assert.equal(await c.reply(), '550 5.6.0 Bare CR or LF in message content: lines must end in CRLF (RFC 5321 2.3.8)');
      await sleep(50);
      assert.equal(c.pending, '', 'exactly one reply for the whole payload');
      assert.equal(h.stored.length, 0);
      assert.equal(await c.command('NOOP'), '250 2.0.0 OK');
      assert.equal(await c.command('RCPT TO:<bob@example.test>'), '503 5.5.1 Send MAIL first');
      assert.ok(h.events.some((e) => e.kind === 'scan' && e.reason === 'smtp-smuggling'));
      c.end();
    });
  }
}
