import type { FastifyBaseLogger } from 'fastify';
import { CORE, LIMITS, MAIL } from './context.ts';
import type { MethodContext } from './context.ts';
import { MethodError, problem } from './errors.ts';
import type { Problem } from './errors.ts';
import { isObject } from './args.ts';

/** The JMAP API request (RFC 8620 section 3.3): validation, result references, one method after another. */

export interface MethodSpec {
  /** The capability the request must list in `using` for this method to exist. */
  capability: string;
  run(args: Record<string, unknown>, ctx: MethodContext): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export const CAPABILITIES = [CORE, MAIL];

type Invocation = [string, Record<string, unknown>, string];

export interface ApiRequest {
  using: string[];
  methodCalls: Invocation[];
  createdIds?: Record<string, string>;
}

/** Parses and checks the body; answers the request or the problem to send (notJSON, notRequest, ...). */
export function parseApiRequest(body: Buffer | string | undefined): ApiRequest | Problem {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : (body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return problem('notJSON', 400, 'The request body is not JSON (the content type must be application/json, the body UTF-8 JSON).');
  }
  if (!isObject(value) || !Array.isArray(value.using) || !Array.isArray(value.methodCalls)) {
    return problem('notRequest', 400, 'The request is not a JMAP Request object: it needs "using" and "methodCalls" arrays.');
  }
  if (!value.using.every((u) => typeof u === 'string')) return problem('notRequest', 400, '"using" must be an array of strings.');
  for (const call of value.methodCalls) {
    if (!Array.isArray(call) || call.length !== 3 || typeof call[0] !== 'string' || !isObject(call[1]) || typeof call[2] !== 'string') {
      return problem('notRequest', 400, 'Each method call must be [name, arguments object, call id].');
    }
  }
  if (value.createdIds !== undefined && !isObject(value.createdIds)) return problem('notRequest', 400, '"createdIds" must be an object.');
  const unknown = (value.using as string[]).find((u) => !CAPABILITIES.includes(u));
  if (unknown !== undefined) return problem('unknownCapability', 400, `The server does not support the capability ${JSON.stringify(unknown)}.`);
  if (value.methodCalls.length > LIMITS.maxCallsInRequest) {
    return problem('limit', 400, `At most ${LIMITS.maxCallsInRequest} method calls per request.`, { limit: 'maxCallsInRequest' });
  }
  return value as unknown as ApiRequest;
}

/** RFC 6901 pointer with JMAP's "*" (map over an array, flattening arrays). */
function evaluatePointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  if (!pointer.startsWith('/')) throw new Error('bad pointer');
  const [first, ...rest] = pointer.slice(1).split('/');
  const token = first!.replace(/~1/g, '/').replace(/~0/g, '~');
  const restPointer = rest.length === 0 ? '' : `/${rest.join('/')}`;
  if (Array.isArray(value)) {
    if (token === '*') {
      return value.flatMap((item) => {
        const r = evaluatePointer(item, restPointer);
        return Array.isArray(r) ? r : [r];
      });
    }
    if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= value.length) throw new Error('no such index');
    return evaluatePointer(value[Number(token)], restPointer);
  }
  if (isObject(value) && Object.hasOwn(value, token)) return evaluatePointer(value[token], restPointer);
  throw new Error('no such member');
}

function resolveReferences(args: Record<string, unknown>, responses: Invocation[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('#')) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.hasOwn(args, name)) throw new MethodError('invalidArguments', `both ${name} and #${name} given`);
    if (!isObject(value) || typeof value.resultOf !== 'string' || typeof value.name !== 'string' || typeof value.path !== 'string') {
      throw new MethodError('invalidResultReference', `#${name} is not a ResultReference`);
    }
    const source = responses.find(([n, , id]) => id === value.resultOf && n === value.name);
    if (!source) throw new MethodError('invalidResultReference', `no ${value.name} response with call id ${value.resultOf}`);
    try {
      out[name] = evaluatePointer(source[1], value.path);
    } catch {
      throw new MethodError('invalidResultReference', `path ${value.path} does not resolve in ${value.name}`);
    }
  }
  return out;
}

export async function runRequest(
  request: ApiRequest,
  methods: Readonly<Record<string, MethodSpec>>,
  ctx: MethodContext,
  sessionState: string,
  log: FastifyBaseLogger,
): Promise<Record<string, unknown>> {
  const responses: Invocation[] = [];
  for (const [name, rawArgs, callId] of request.methodCalls) {
    const spec = Object.hasOwn(methods, name) ? methods[name] : undefined;
    try {
      if (!spec || !request.using.includes(spec.capability)) throw new MethodError('unknownMethod', `${name} is not a method of the capabilities in "using"`);
      const args = resolveReferences(rawArgs, responses);
      responses.push([name, await spec.run(args, ctx), callId]);
    } catch (error) {
      if (error instanceof MethodError) {
        responses.push(['error', error.toJSON(), callId]);
      } else {
        log.error({ err: error, method: name }, 'jmap method failed');
        responses.push(['error', { type: 'serverFail', description: 'the server failed; see its log' }, callId]);
      }
    }
  }
  return { methodResponses: responses, ...(request.createdIds ? { createdIds: request.createdIds } : {}), sessionState };
}
