import type { FastifyReply } from 'fastify';

/** RFC 7807 problem details, as RFC 8620 section 3.6.1 uses them for request-level errors. */
export interface Problem {
  type: string;
  status: number;
  detail: string;
  title?: string;
  limit?: string;
}

export const JMAP_ERROR = 'urn:ietf:params:jmap:error:';

export function problem(type: string, status: number, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: type.includes(':') ? type : `${JMAP_ERROR}${type}`, status, detail, ...extra };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).header('content-type', 'application/problem+json; charset=utf-8').header('cache-control', 'no-store').send(JSON.stringify(p));
}

/** A method-level error (RFC 8620 section 3.6.2): thrown by methods, answered as ["error", {...}, callId]. */
export class MethodError extends Error {
  readonly type: string;
  readonly extra: Record<string, unknown>;
  constructor(type: string, description?: string, extra: Record<string, unknown> = {}) {
    super(description ?? type);
    this.type = type;
    this.extra = { ...(description !== undefined ? { description } : {}), ...extra };
  }
  toJSON(): Record<string, unknown> {
    return { type: this.type, ...this.extra };
  }
}

export const invalidArguments = (description: string) => new MethodError('invalidArguments', description);

/** A SetError for one object of a /set call. */
export function setError(type: string, description: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, description, ...extra };
}
