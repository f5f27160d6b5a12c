import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isEncrypted } from '@portico/core';
import type { SecurityEventSink } from '@portico/core';
import { sendProblem } from './jmap/errors.ts';
import type { AccountsAccess, MailOptions } from './jmap/types.ts';
import { answerVerdict } from './verdict-reply.ts';

/**
 * HTTP Basic authentication (RFC 7617) against the configured accounts, only over TLS: the request's
 * resolved ConnectionInfo must have `tls` set (terminated by our listener, or by a trusted proxy that said
 * so with X-Forwarded-Proto / PROXY). Over plaintext the credentials are not even checked.
 */

export const ENCRYPTION_REQUIRED = 'urn:portico:error:encryptionRequired';
export const UNAUTHORIZED = 'urn:portico:error:unauthorized';

export interface BasicAuthOptions {
  accounts: AccountsAccess;
  events: SecurityEventSink;
  realm?: string;
  /** MailOptions.admitAccount: refuses a login or a request by account (rate limits). */
  admitAccount?: MailOptions['admitAccount'];
  /** How long a verified user/password pair is remembered (scrypt is slow on purpose). Default 60 s. */
  cacheMs?: number;
}

/** Answers the authenticated (lower-cased) address, or undefined after sending 401/403. */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<string | undefined>;

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function createBasicAuth(options: BasicAuthOptions): Authenticate {
  const realm = options.realm ?? 'Portico JMAP';
  const cacheMs = options.cacheMs ?? 60_000;
  const verified = new Map<string, number>();
  // Keyed with a per-process secret: the cache must not be a fast offline test of passwords.
  const cacheSecret = randomBytes(32);
  const challenge = `Basic realm="${realm.replace(/["\\]/g, '')}", charset="UTF-8"`;

  function unauthorized(reply: FastifyReply, detail: string): undefined {
    reply.header('www-authenticate', challenge);
    sendProblem(reply, { type: UNAUTHORIZED, status: 401, title: 'Unauthorized', detail });
    return undefined;
  }

  return async (request, reply) => {
    if (!isEncrypted(request.connection)) {
      sendProblem(reply, {
        type: ENCRYPTION_REQUIRED,
        status: 403,
        title: 'Encryption required',
        detail:
          'This request came over plaintext HTTP. JMAP authentication sends the password, so it is only accepted over https:// ' +
          '(TLS on this listener, or terminated by a trusted proxy that says so).',
      });
      return undefined;
    }
    const header = request.headers.authorization;
    if (header === undefined) return unauthorized(reply, 'Authenticate with HTTP Basic (your address and password).');
    const credentials = parseBasic(header);
    const address = credentials?.user.trim().toLowerCase();
    const key = credentials ? createHmac('sha256', cacheSecret).update(`${address}\0${credentials.password}`).digest('base64') : '';
    // The login policy (failed-login lockout) holds for remembered credentials too.
    if (address && options.admitAccount && (await answerVerdict(request, reply, await options.admitAccount(request.connection, address, 'login')))) {
      return undefined;
    }
    const now = Date.now();
    const until = verified.get(key);
    if (credentials && address && until !== undefined && until > now) return admitted(request, reply, address);
    const ok = credentials !== undefined && address !== undefined && (await options.accounts.verify(address, credentials.password));
    if (!ok) {
      options.events.report({
        kind: 'auth-failure',
        reason: credentials ? 'jmap-basic-auth' : 'jmap-bad-authorization',
        connection: request.connection,
        ...(address ? { account: address.slice(0, 320) } : {}),
      });
      request.log.info({ account: address?.slice(0, 320) }, 'jmap authentication failed');
      return unauthorized(reply, 'The address or password is wrong.');
    }
    verified.set(key, now + cacheMs);
    if (verified.size > 1000) verified.delete(verified.keys().next().value!);
    return admitted(request, reply, address);
  };

  async function admitted(request: FastifyRequest, reply: FastifyReply, address: string): Promise<string | undefined> {
    if (!options.admitAccount) return address;
    return (await answerVerdict(request, reply, await options.admitAccount(request.connection, address, 'request'))) ? undefined : address;
  }
}
