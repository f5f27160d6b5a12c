import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { connectionLines } from '@portico/core';
import type { Endpoint } from '@portico/core';
import type { ListenerOptions, RunningListener, BoundAddress } from './options.ts';
import { ConnectionLimits } from './limits.ts';
import { OpenConnections } from './open-connections.ts';
import { HeaderDeadlines } from './header-deadlines.ts';
import { acceptConnection } from './accept.ts';
import { settleAsyncContextFrames } from './async-context.ts';
import type { ListenerContext } from './accept.ts';
import { formatHostPort, parseBindAddress } from './bind-address.ts';
import { ERR_ADDRESS_IN_USE, ERR_BIND_ADDRESS, ERR_LISTEN, ERR_TLS_CONTEXT_MISSING } from './errors.ts';

/** Binds that accept on every address: the local end of each socket must be asked of the kernel. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

/** Connection ids: a per-process prefix and a counter, unique across restarts and cheap to make. */
const idPrefix = randomBytes(3).toString('hex');
let idCounter = 0;
const nextId = () => `${idPrefix}${(++idCounter).toString(36)}`;

function listen(server: Server, host: string, port: number, listenerId: string): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = formatHostPort(host, port);
      reject(error.code === 'EADDRINUSE' ? ERR_ADDRESS_IN_USE(listenerId, where) : ERR_LISTEN(listenerId, where, error.message));
    };
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(ERR_LISTEN(listenerId, host, 'no address'));
      resolve({ address: host, port: address.port });
    });
  });
}

/**
 * Starts one listener: a net.Server per bind address, each accepted socket going through
 * acceptConnection (PROXY header, implicit TLS, limits, admission) before the protocol sees it.
 * Starts all or nothing: if one address cannot be bound, the others are closed again.
 */
export async function startListener(options: ListenerOptions): Promise<RunningListener> {
  if (options.tls.implicit && !options.tls.secureContext) throw ERR_TLS_CONTEXT_MISSING(options.id);
  const binds = options.bind.map((text) => parseBindAddress(text) ?? ERR_BIND_ADDRESS(options.id, text));
  for (const bind of binds) if (bind instanceof Error) throw bind;
  settleAsyncContextFrames();

  const open = new OpenConnections();
  const connectionParentLogger = options.logger.child({});
  const context: ListenerContext = {
    options,
    limits: new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp),
    nextId,
    open,
    headerDeadlines: new HeaderDeadlines(options.proxy.timeoutMs),
    connectionParentLogger,
    connectionLines: connectionLines(connectionParentLogger),
  };

  const servers: Server[] = [];
  const addresses: BoundAddress[] = [];
  try {
    for (const bind of binds as { host: string; port: number }[]) {
      let local: Endpoint | undefined;
      const server = createServer({ noDelay: true }, (socket) => acceptConnection(socket, context, local));
      servers.push(server);
      const bound = await listen(server, bind.host, bind.port, options.id);
      addresses.push(bound);
      // Every socket accepted on a specific address has that address and port as its local end, so
      // the kernel need not be asked (a getsockname call per connection); a wildcard bind must ask.
      if (!WILDCARD_HOSTS.has(bind.host)) local = Object.freeze({ address: bind.host, port: bound.port });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw error;
  }

  return {
    id: options.id,
    addresses,
    get activeConnections() {
      return open.size;
    },
    async stopAccepting() {
      // close() stops listening at once; its callback waits for every open connection, which is
      // what drained() is for, so it is not awaited here.
      for (const server of servers) server.close();
    },
    closeAll() {
      open.destroyAll();
    },
    drained() {
      return open.whenEmpty();
    },
  };
}
