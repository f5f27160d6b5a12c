export { handleSmtpSession } from './session.ts';
export type { SmtpOptions, SmtpLimits, SmtpMode, SmtpAccounts, SmtpDeliver, SmtpMailAuth, SpfQuery } from './types.ts';
export { DEFAULT_LIMITS } from './types.ts';
export { smtpGreetingErrors } from './greeting-errors.ts';
export { verdictReply, formatReply } from './replies.ts';
export * from './errors.ts';
