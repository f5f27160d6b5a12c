import { ALLOW, refuse } from '@portico/core';
import type { Verdict } from '@portico/core';
import { ERR_VERIFY_MODE } from './errors.ts';

/**
 * `mail-auth.{spf,dkim,dmarc}.verify`:
 * - relaxed (default): results are recorded; only a DMARC failure whose policy is reject is refused;
 * - strict: relaxed, plus SPF `fail` is refused, a message whose DKIM signatures all fail is refused,
 *   and a DMARC failure with policy quarantine is refused too;
 * - disable: the method never refuses (SPF is not checked at MAIL FROM; DMARC is not evaluated).
 * In every mode but disable, a temporary DNS error (timeout, SERVFAIL) refuses temporarily (451 4.7.x):
 * neither an acceptance nor a rejection.
 */
export type VerifyMode = 'relaxed' | 'strict' | 'disable';

export interface MailAuthPolicy {
  readonly spf: VerifyMode;
  readonly dkim: VerifyMode;
  readonly dmarc: VerifyMode;
}

export const DEFAULT_POLICY: MailAuthPolicy = Object.freeze({ spf: 'relaxed', dkim: 'relaxed', dmarc: 'relaxed' });

export function parseVerifyMode(key: string, value: string | undefined): VerifyMode {
  if (value === undefined) return 'relaxed';
  if (value === 'relaxed' || value === 'strict' || value === 'disable') return value;
  throw ERR_VERIFY_MODE(key, value);
}

const TEMPORARY = new Set(['temperror', 'temperr']);

/** Verdict reason codes (stable; smtp maps them to enhanced status codes per RFC 7372). */
export const REASONS = Object.freeze({
  spfFail: 'spf-fail',
  spfTemporary: 'spf-temperror',
  dkimFail: 'dkim-fail',
  dkimTemporary: 'dkim-temperror',
  dmarcFail: 'dmarc-policy',
  dmarcTemporary: 'dmarc-temperror',
});

export function spfVerdict(mode: VerifyMode, result: string, domain: string, ip: string): Verdict {
  if (mode === 'disable') return ALLOW;
  if (TEMPORARY.has(result)) {
    return refuse(REASONS.spfTemporary, `SPF check of ${domain} failed temporarily, try again later`, true);
  }
  if (mode === 'strict' && result === 'fail') {
    return refuse(REASONS.spfFail, `SPF of ${domain} does not allow ${ip} to send its mail`, false);
  }
  return ALLOW;
}

export function dkimVerdict(mode: VerifyMode, results: readonly string[]): Verdict {
  if (mode === 'disable' || results.length === 0) return ALLOW;
  if (results.includes('pass')) return ALLOW;
  if (results.some((r) => TEMPORARY.has(r))) {
    return refuse(REASONS.dkimTemporary, 'DKIM key lookup failed temporarily, try again later', true);
  }
  // mailauth reports a body hash mismatch as neutral; a bad key as permerror or policy.
  if (mode === 'strict' && results.some((r) => ['fail', 'neutral', 'permerror', 'policy'].includes(r))) {
    return refuse(REASONS.dkimFail, 'no DKIM signature of this message verifies', false);
  }
  return ALLOW;
}

export function dmarcVerdict(mode: VerifyMode, result: string | undefined, policy: string | undefined, domain: string | undefined): Verdict {
  if (mode === 'disable' || result === undefined) return ALLOW;
  if (TEMPORARY.has(result)) {
    return refuse(REASONS.dmarcTemporary, 'DMARC policy lookup failed temporarily, try again later', true);
  }
  if (result === 'fail' && (policy === 'reject' || (mode === 'strict' && policy === 'quarantine'))) {
    return refuse(REASONS.dmarcFail, `DMARC policy of ${domain ?? 'the author domain'} rejects this message`, false);
  }
  return ALLOW;
}

/** The first refusal, permanent ones before temporary ones (a definite "no" beats "try later"). */
export function combine(verdicts: readonly Verdict[]): Verdict {
  const refusals = verdicts.filter((v) => v.kind === 'refuse');
  return refusals.find((v) => v.kind === 'refuse' && !v.temporary) ?? refusals[0] ?? ALLOW;
}
