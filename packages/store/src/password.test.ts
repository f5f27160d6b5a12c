import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Accounts, hashPassword, isPasswordHash, verifyPassword } from './password.ts';

test('hashPassword produces the documented format and verifies', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^\$scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assert.ok(isPasswordHash(hash));
  assert.equal(await verifyPassword(hash, 'correct horse'), true);
  assert.equal(await verifyPassword(hash, 'correct horsf'), false);
  assert.equal(await verifyPassword(hash, ''), false);
  assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
});

test('isPasswordHash refuses plaintext and malformed hashes', async () => {
  for (const bad of ['secret', '', '$scrypt$', '$scrypt$N=16384,r=8,p=1$abc', '$scrypt$N=1000,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==',
    '$scrypt$N=1073741824,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==', '$argon2id$v=19$m=65536,t=3,p=4$abc$def']) {
    assert.equal(isPasswordHash(bad), false, bad);
  }
  await assert.rejects(verifyPassword('plaintext', 'plaintext'), { code: 'PORTICO_ERR_STORE_PASSWORD_HASH_FORMAT' });
});

test('Accounts: case-insensitive lookup, verify, refuses plaintext', async () => {
  const hash = await hashPassword('pw');
  const accounts = new Accounts({ 'Alice@Example.test': hash });
  assert.ok(accounts.exists('alice@example.TEST'));
  assert.equal(accounts.canonical('ALICE@example.test'), 'alice@example.test');
  assert.ok(!accounts.exists('bob@example.test'));
  assert.equal(await accounts.verify('alice@example.test', 'pw'), true);
  assert.equal(await accounts.verify('alice@example.test', 'nope'), false);
  assert.equal(await accounts.verify('bob@example.test', 'pw'), false);
  assert.throws(() => new Accounts({ 'x@example.test': 'plaintext' }), { code: 'PORTICO_ERR_STORE_PASSWORD_HASH_FORMAT' });
});
