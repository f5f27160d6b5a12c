export { MaildirStore, mailboxName, messageKey, messageFlags } from './maildir.ts';
export type { MaildirStoreOptions, StoredMessage } from './maildir.ts';
export { hashPassword, verifyPassword, isPasswordHash, Accounts, normalizeAddress } from './password.ts';
export * from './errors.ts';
