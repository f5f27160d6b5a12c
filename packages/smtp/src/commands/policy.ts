import type { Verdict } from '@portico/core';
import type { SessionContext } from '../context.ts';
import { verdictReply } from '../replies.ts';
import type { Reply } from '../replies.ts';

/**
 * Applies a policy verdict at a command: a delay (tarpit) is waited out, within half the command
 * timeout so the client does not give up on us; a refusal answers its reply (the caller sends it).
 */
export async function settleVerdict(session: SessionContext, verdict: Verdict, stage: 'transaction' | 'auth' = 'transaction'): Promise<Reply | undefined> {
  if (verdict.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, Math.min(verdict.ms, session.limits.commandTimeoutMs / 2)));
  return verdictReply(verdict, stage);
}
