import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fastify } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { stdSerializers } from 'pino';
import type { Logger } from 'pino';
import { IGNORE_SECURITY_EVENTS, connectionLogger } from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';
import { ERR_PUBLIC_URL, ERR_ROUTE_PREFIX, ERR_ROUTE_UPSTREAM, ERR_UNKNOWN_CONNECTION } from './errors.ts';
import { JMAP_PATHS, jmapRoutes } from './jmap/routes.ts';
import { answerVerdict } from './verdict-reply.ts';
import type { MailOptions } from './jmap/types.ts';
import { DISCOVERY_PATHS, discoveryRoutes } from './discovery/routes.ts';
import type { DiscoveryOptions } from './discovery/types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's ConnectionInfo: the connection's, with the client resolved from forwarded headers. */
    connection: ConnectionInfo;
    /** Why forwarded headers on this request were (partly) ignored, when they were. */
    forwardedIgnored: string | undefined;
  }
}

export interface HttpRoute {
  /** "/webmail": every request under it goes to `upstream`, the prefix removed. */
  prefix: string;
  /** "http://127.0.0.1:9000" */
  upstream: string;
}

export interface ResolvedClient {
  info: ConnectionInfo;
  ignored?: string;
}

export interface HttpAppOptions {
  /** server.public-url; JMAP and discovery URLs come only from this, never from request headers. */
  publicUrl: string;
  /**
   * Who the client of one request is. The server wires this from @portico/listener's forwarded.ts
   * (`forwardedResolver(trustedNetworks)`); it answers a new frozen ConnectionInfo (or the same one).
   * Called once per request, since a proxy may send several clients' requests on one connection.
   */
  resolveClient(info: ConnectionInfo, headers: IncomingHttpHeaders): ResolvedClient;
  /** [http.routes."/webmail"] upstream = "http://127.0.0.1:9000" */
  routes?: readonly HttpRoute[];
  logger: Logger;
  /** Where scan-path requests are reported (kind 'scan', reason 'scan-path'). */
  events?: SecurityEventSink;
  /** server.auto-ban.scan.paths: answered 404 and reported. */
  scanPaths?: readonly string[];
  /** Rate-limit / ban hook, per request: refuse temporary -> 429 (+ Retry-After), refuse -> 403, delay -> wait. */
  admitRequest?(info: ConnectionInfo): Verdict | Promise<Verdict>;
  /** How long close() lets requests in flight finish before destroying their sockets. Default 10 s. */
  closeGraceMs?: number;
  /** A client must send its whole request head within this (slowloris). Default 30 s. */
  headersTimeoutMs?: number;
  /** ... and its whole request within this. Default 300 s; 0 = no limit. */
  requestTimeoutMs?: number;
  /** JMAP (RFC 8620/8621) over the accounts and their mail; absent = no JMAP routes. */
  mail?: MailOptions;
  /** Thunderbird autoconfig and Microsoft autodiscover; absent = no discovery routes. */
  discovery?: DiscoveryOptions;
}

export interface HttpApp {
  /** Serves HTTP on a socket the listener accepted (after PROXY header and TLS). */
  handleConnection(socket: Socket | TLSSocket, info: ConnectionInfo, log: Logger): void;
  /** The same, as a listener ConnectionHandler: reports the close reason back to the listener. */
  onConnection(connection: AcceptedConnection): void;
  /** Stops taking connections, lets requests in flight finish (up to closeGraceMs), then destroys the rest. */
  close(): Promise<void>;
  /** For tests and the server's status output. */
  readonly openConnections: number;
}

interface ConnectionState {
  readonly info: ConnectionInfo;
  readonly log: Logger;
}

interface RequestState {
  readonly info: ConnectionInfo;
  readonly ignored: string | undefined;
  readonly log: Logger;
}

const HEALTH_PATH = '/healthz';
const CONNECTION_PATH = '/api/connection';
const RESERVED_PATHS = [HEALTH_PATH, CONNECTION_PATH];
/** Forwarding headers a client may have sent that must not reach an upstream as if we had set them. */
const STRIPPED_UPSTREAM_HEADERS = ['forwarded', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-for'];

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function validateRoutes(routes: readonly HttpRoute[], reservedPaths: readonly string[]): void {
  const seen = new Set<string>();
  for (const route of routes) {
    const { prefix } = route;
    if (!prefix.startsWith('/') || prefix === '/') throw ERR_ROUTE_PREFIX(prefix, 'the prefix must start with "/" and not be "/" alone');
    if (prefix.endsWith('/')) throw ERR_ROUTE_PREFIX(prefix, 'write the prefix without a trailing "/"');
    if (/[?#*:\s]/.test(prefix)) throw ERR_ROUTE_PREFIX(prefix, 'the prefix must be a plain path (no "?", "#", "*", ":" or spaces)');
    const lower = prefix.toLowerCase();
    for (const reserved of reservedPaths) {
      if (lower === reserved || reserved.startsWith(`${lower}/`) || lower.startsWith(`${reserved}/`)) {
        throw ERR_ROUTE_PREFIX(prefix, `it would hide Portico's own ${reserved}`);
      }
    }
    if (seen.has(lower)) throw ERR_ROUTE_PREFIX(prefix, 'the prefix is configured twice');
    seen.add(lower);
    if (!isHttpUrl(route.upstream)) throw ERR_ROUTE_UPSTREAM(prefix, route.upstream);
  }
}

function normalisePath(path: string): string {
  let p = path.toLowerCase();
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Matches a request path against the scan paths: exact, or below one ("/.env" matches "/.env/x"). */
function scanMatcher(paths: readonly string[]): (url: string) => string | undefined {
  const wanted = paths.map(normalisePath).filter((p) => p !== '/' && p !== '');
  if (wanted.length === 0) return () => undefined;
  return (url) => {
    const raw = url.split('?', 1)[0] ?? '';
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // keep the raw path
    }
    for (const candidate of new Set([normalisePath(raw), normalisePath(decoded.replace(/\/{2,}/g, '/'))])) {
      for (const scan of wanted) {
        if (candidate === scan || candidate.startsWith(`${scan}/`)) return scan;
      }
    }
    return undefined;
  };
}

/** The JSON of GET /api/connection: the documented ConnectionInfo fields, nothing internal. */
export function connectionJson(info: ConnectionInfo): Record<string, unknown> {
  return {
    id: info.id,
    listener: info.listener,
    client: info.client,
    server: info.server,
    peer: info.peer,
    via: info.via,
    tls: info.tls,
    ...(info.proxy ? { proxy: info.proxy } : {}),
  };
}

/** Headers an upstream gets: the resolved client, never what the client claimed. */
export function upstreamForwardingHeaders(info: ConnectionInfo): Record<string, string> {
  return { 'x-forwarded-for': info.client.address, 'x-forwarded-proto': info.tls ? 'https' : 'http' };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  if (!isHttpUrl(options.publicUrl)) throw ERR_PUBLIC_URL(options.publicUrl);
  const routes = options.routes ?? [];
  validateRoutes(routes, [
    ...RESERVED_PATHS,
    ...(options.mail ? JMAP_PATHS : []),
    ...(options.discovery ? DISCOVERY_PATHS.map((p) => p.toLowerCase()) : []),
  ]);
  const events = options.events ?? IGNORE_SECURITY_EVENTS;
  const matchScanPath = scanMatcher(options.scanPaths ?? []);
  const closeGraceMs = options.closeGraceMs ?? 10_000;

  const connections = new WeakMap<Socket, ConnectionState>();
  const requests = new WeakMap<IncomingMessage, RequestState>();
  const open = new Set<Socket>();
  let closing = false;
  let closed: Promise<void> | undefined;

  /** Resolves the request's client once (the log factory and the onRequest hook both need it). */
  function requestState(raw: IncomingMessage): RequestState {
    const known = requests.get(raw);
    if (known) return known;
    const connection = connections.get(raw.socket);
    if (!connection) throw ERR_UNKNOWN_CONNECTION();
    let info = connection.info;
    let ignored: string | undefined;
    try {
      const resolved = options.resolveClient(connection.info, raw.headers);
      info = resolved.info;
      ignored = resolved.ignored;
    } catch (err) {
      connection.log.error({ err }, 'resolving the client from forwarded headers failed; using the connection');
    }
    // A new client: a logger with the request's own connection fields (the peer stays visible).
    const log = info === connection.info ? connection.log : connectionLogger(options.logger, info);
    const state: RequestState = { info, ignored, log };
    requests.set(raw, state);
    return state;
  }

  const headersTimeout = options.headersTimeoutMs ?? 30_000;
  const requestTimeout = options.requestTimeoutMs ?? 300_000;
  const server: Server = createServer({
    headersTimeout,
    requestTimeout: requestTimeout === 0 ? 0 : Math.max(requestTimeout, headersTimeout),
    // Node checks both timeouts on this interval; a fraction of the head timeout keeps them honest.
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(headersTimeout / 4))),
  });
  // The server is never listen()ed: sockets arrive through handleConnection. Node only starts tracking
  // connections (header/request timeouts, closeIdleConnections) on 'listening', so say it happened.
  server.emit('listening');
  const app = fastify({
    loggerInstance: options.logger,
    serverFactory: (handler) => {
      server.on('request', handler);
      return server;
    },
    // Never trustProxy: who the client is comes from resolveClient (trusted networks), nowhere else.
    trustProxy: false,
    return503OnClosing: true,
    childLoggerFactory(logger, bindings, childOptions, rawReq) {
      // The parent is the connection's logger (not fastify's), so fastify's serializers are restated here.
      const serializers = {
        err: stdSerializers.err,
        res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
        ...childOptions.serializers,
        // The client is in the bindings; the socket address fastify would log is the proxy's.
        req: (request: FastifyRequest) => ({ method: request.method, url: request.url }),
      };
      let parent: Logger | undefined;
      try {
        parent = requestState(rawReq).log;
      } catch {
        parent = undefined;
      }
      return (parent ?? logger).child(bindings, { ...childOptions, serializers });
    },
    clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket) {
      // The default 400/408/431 answers, and a debug line that says which connection sent garbage.
      const connection = connections.get(socket);
      if (err.code !== 'ECONNRESET' && !socket.destroyed) {
        const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
        (connection?.log ?? options.logger).debug({ code: err.code, status }, 'bad http request');
        const body = JSON.stringify({ error: statusText(status), statusCode: status });
        if (socket.writable) {
          socket.write(
            `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        }
      }
      socket.destroy();
    },
  });

  app.decorateRequest('connection', null as unknown as ConnectionInfo);
  app.decorateRequest('forwardedIgnored', undefined);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const state = requestState(request.raw);
    request.connection = state.info;
    request.forwardedIgnored = state.ignored;
    if (state.ignored !== undefined) request.log.debug({ ignored: state.ignored }, 'forwarded headers ignored');
    if (request.routeOptions.url === HEALTH_PATH) return; // health checks: never rate limited nor scanned

    const scan = matchScanPath(request.url);
    if (scan !== undefined) {
      events.report({ kind: 'scan', reason: 'scan-path', connection: state.info, detail: request.url.slice(0, 200) });
      request.log.info({ scanPath: scan }, 'scan path requested');
      return reply.code(404).send({ error: 'Not Found', statusCode: 404 });
    }

    if (options.admitRequest && (await answerVerdict(request, reply, await options.admitRequest(state.info)))) return reply;
  });

  app.addHook('onSend', async (request, reply) => {
    // While closing, answer what is in flight and let the client know the connection ends.
    if (closing) reply.header('connection', 'close');
    if (request.routeOptions.url === CONNECTION_PATH) reply.header('cache-control', 'no-store');
  });

  app.get(HEALTH_PATH, async () => ({ status: 'ok' }));

  app.get(CONNECTION_PATH, async (request) => ({
    ...connectionJson(request.connection),
    ...(request.forwardedIgnored !== undefined ? { ignored: request.forwardedIgnored } : {}),
  }));

  if (options.mail) await app.register(jmapRoutes({ publicUrl: options.publicUrl, mail: options.mail, events }));
  if (options.discovery) await app.register(discoveryRoutes(options.discovery));

  for (const route of routes) {
    await app.register(httpProxy, {
      upstream: route.upstream,
      prefix: route.prefix,
      websocket: true,
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => {
          const out: Record<string, unknown> = { ...headers };
          for (const name of STRIPPED_UPSTREAM_HEADERS) delete out[name];
          return { ...out, ...upstreamForwardingHeaders(request.connection) } as typeof headers;
        },
      },
      wsClientOptions: {
        rewriteRequestHeaders: (headers: OutgoingHttpHeaders, request: FastifyRequest) => ({
          ...headers,
          ...(request.headers.cookie ? { cookie: request.headers.cookie } : {}),
          ...upstreamForwardingHeaders(request.connection),
        }),
      },
    });
  }

  await app.ready();

  function handleConnection(socket: Socket | TLSSocket, info: ConnectionInfo, log: Logger): void {
    if (closing) {
      socket.destroy();
      return;
    }
    connections.set(socket, { info, log });
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    server.emit('connection', socket);
  }

  async function close(): Promise<void> {
    if (closed) return closed;
    closing = true;
    closed = (async () => {
      // server.close(): closes idle keep-alive connections (and, patched by @fastify/http-proxy, the
      // websocket server). It was never listening, so its callback reports ERR_SERVER_NOT_RUNNING.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      const deadline = Date.now() + closeGraceMs;
      while (open.size > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await sleep(25);
      }
      for (const socket of open) socket.destroy();
      open.clear();
    })();
    return closed;
  }

  return {
    handleConnection,
    onConnection(connection: AcceptedConnection) {
      connection.socket.once('close', () => connection.onClose(closing ? 'shutdown' : 'closed'));
      handleConnection(connection.socket, connection.info, connection.log);
    },
    close,
    get openConnections() {
      return open.size;
    },
  };
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}
