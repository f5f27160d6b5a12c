export { handleImapSession } from './session.ts';
export type { ImapOptions, ImapLimits, ImapMailbox, ImapMailboxState, ImapMessage, ImapAccounts, SystemFlag } from './types.ts';
export { DEFAULT_LIMITS, SYSTEM_FLAGS } from './types.ts';
export { verdictResponse } from './responses.ts';
export * from './errors.ts';
