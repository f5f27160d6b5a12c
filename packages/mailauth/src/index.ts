export { MailAuthenticator, reverseZoneName } from './authenticator.ts';
export type { MailAuthenticatorOptions, SpfInput, SpfCheck, AuthenticateInput, AuthenticationOutcome } from './authenticator.ts';
export { createResolver, withTimeout, DEFAULT_DNS_TIMEOUT_MS } from './resolver.ts';
export type { DnsResolver, ResolverOptions } from './resolver.ts';
export { DEFAULT_POLICY, parseVerifyMode, spfVerdict, dkimVerdict, dmarcVerdict, combine, REASONS } from './policy.ts';
export type { VerifyMode, MailAuthPolicy } from './policy.ts';
export * from './errors.ts';
