import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SecurityEventSink } from '@portico/core';
import { createBasicAuth } from '../auth.ts';
import { LIMITS, MethodContext, ParsedCache } from './context.ts';
import { parseApiRequest, runRequest } from './dispatch.ts';
import type { MethodSpec } from './dispatch.ts';
import { sendBlob } from './download.ts';
import { problem, sendProblem } from './errors.ts';
import { createEventStreams } from './eventsource.ts';
import { accountIdOf } from './ids.ts';
import { coreMethods } from './methods/core.ts';
import { emailMethods } from './methods/email.ts';
import { mailboxMethods } from './methods/mailbox.ts';
import { API_PATH, DOWNLOAD_PREFIX, EVENTSOURCE_PATH, SESSION_PATH, UPLOAD_PREFIX, sessionResource } from './session.ts';
import { MailState } from './state.ts';
import type { MailOptions } from './types.ts';

/** The JMAP routes, registered as one fastify plugin (its own body parser; the app's hooks still run). */

export const JMAP_PATHS = ['/.well-known/jmap', '/jmap'];

const METHODS: Record<string, MethodSpec> = { ...coreMethods, ...mailboxMethods, ...emailMethods };

export interface JmapRoutesOptions {
  publicUrl: string;
  mail: MailOptions;
  events: SecurityEventSink;
}

export function jmapRoutes(options: JmapRoutesOptions) {
  return async (app: FastifyInstance) => {
    const authenticate = createBasicAuth({ accounts: options.mail.accounts, events: options.events, ...(options.mail.admitAccount ? { admitAccount: options.mail.admitAccount } : {}) });
    const state = new MailState(options.mail.mailbox);
    const parsed = new ParsedCache();
    const streams = createEventStreams(state, options.mail.pushPollMs ?? 5000);
    const contextFor = (address: string) => new MethodContext(address, accountIdOf(address), state, options.mail.mailbox, parsed);

    // The API body is parsed here, so that bad JSON is the RFC's notJSON problem rather than fastify's 400.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LIMITS.maxSizeRequest }, (_request, body, done) => done(null, body));
    app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return sendProblem(reply, problem('limit', 400, `The request is larger than ${LIMITS.maxSizeRequest} bytes.`, { limit: 'maxSizeRequest' }));
      }
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'jmap request failed');
      return sendProblem(reply, { type: 'about:blank', status, detail: status === 500 ? 'The server failed; see its log.' : error.message });
    });
    app.addHook('onSend', async (_request, reply) => {
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-cache, no-store');
    });
    app.addHook('preClose', async () => streams.closeAll());

    const session = async (request: FastifyRequest, reply: FastifyReply) => {
      const address = await authenticate(request, reply);
      if (address === undefined) return reply;
      return reply.send(sessionResource(options.publicUrl, address));
    };
    app.get('/.well-known/jmap', session);
    app.get(SESSION_PATH, session);

    app.post(API_PATH, async (request, reply) => {
      const address = await authenticate(request, reply);
      if (address === undefined) return reply;
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        return sendProblem(reply, problem('notJSON', 400, 'The content type must be application/json.'));
      }
      const parsedRequest = parseApiRequest(request.body as Buffer | undefined);
      if ('status' in parsedRequest) return sendProblem(reply, parsedRequest);
      const session = sessionResource(options.publicUrl, address);
      return reply.send(await runRequest(parsedRequest, METHODS, contextFor(address), session.state as string, request.log));
    });

    app.get<{ Params: { accountId: string; blobId: string; name: string }; Querystring: { accept?: string } }>(
      `${DOWNLOAD_PREFIX}/:accountId/:blobId/:name`,
      async (request, reply) => {
        const address = await authenticate(request, reply);
        if (address === undefined) return reply;
        const { accountId, blobId, name } = request.params;
        if (accountId !== accountIdOf(address) || !/^[A-Za-z0-9_-]{1,255}$/.test(blobId)) {
          return sendProblem(reply, { type: 'about:blank', status: 404, title: 'Not Found', detail: 'No such blob in this account.' });
        }
        return sendBlob(reply, contextFor(address), blobId, name, request.query.accept);
      },
    );

    app.post(`${UPLOAD_PREFIX}/:accountId/`, async (request, reply) => {
      const address = await authenticate(request, reply);
      if (address === undefined) return reply;
      return sendProblem(reply, {
        type: 'about:blank',
        status: 403,
        title: 'Forbidden',
        detail: 'Uploads are not supported (maxSizeUpload is 0): this server does not create emails over JMAP.',
      });
    });

    app.get(EVENTSOURCE_PATH, async (request, reply) => {
      const address = await authenticate(request, reply);
      if (address === undefined) return reply;
      await streams.open(request, reply, address);
      return reply;
    });
  };
}
