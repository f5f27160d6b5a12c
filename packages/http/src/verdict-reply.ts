import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Verdict } from '@portico/core';

/**
 * The one mapping of a policy Verdict to an HTTP answer: refuse temporary -> 429 with Retry-After,
 * refuse permanent -> 403, delay -> wait, then go on. Answers true when a reply was sent.
 */
export async function answerVerdict(request: FastifyRequest, reply: FastifyReply, verdict: Verdict): Promise<boolean> {
  if (verdict.kind === 'delay') {
    request.log.debug({ reason: verdict.reason, ms: verdict.ms }, 'request delayed');
    await new Promise((resolve) => setTimeout(resolve, verdict.ms));
    return false;
  }
  if (verdict.kind !== 'refuse') return false;
  request.log.info({ reason: verdict.reason, temporary: verdict.temporary }, 'request refused');
  const status = verdict.temporary ? 429 : 403;
  if (verdict.temporary && verdict.retryAfter !== undefined) reply.header('retry-after', String(Math.max(0, Math.ceil(verdict.retryAfter))));
  await reply.code(status).send({ error: STATUS_CODES[status], message: verdict.message, reason: verdict.reason, statusCode: status });
  return true;
}
