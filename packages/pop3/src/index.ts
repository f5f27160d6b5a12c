export { handlePop3Session } from './session.ts';
export type { Pop3Options, Pop3Limits, Pop3Accounts, Pop3Mailbox, Pop3MessageEntry } from './types.ts';
export { DEFAULT_LIMITS } from './types.ts';
export { verdictReply, formatReply } from './replies.ts';
export * from './errors.ts';
