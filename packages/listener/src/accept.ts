import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import {
  canonicalSocketAddress,
  connectionLogFields,
  freezeConnectionInfo,
  withTls,
} from '@portico/core';
import type { AcceptedConnection, ConnectionInfo, Endpoint } from '@portico/core';
import type { ListenerOptions } from './options.ts';
import type { ConnectionLimits } from './limits.ts';
import { readProxyHeader } from './read-proxy-header.ts';
import { guardAgainstUntrustedHeader } from './untrusted-guard.ts';
import { tlsStateFromProxy, tlsStateOfSocket } from './tls-state.ts';
import { ReplayStream } from './replay-stream.ts';
import { detectProxyHeader } from './proxy-protocol/index.ts';
import type { ProxyHeader } from './proxy-protocol/index.ts';

/** How long a refused or timed-out client gets to read our last words before the socket is destroyed. */
const LINGER_MS = 2000;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ListenerContext {
  readonly options: ListenerOptions;
  readonly limits: ConnectionLimits;
  readonly nextId: () => string;
  readonly sockets: Set<Socket>;
}

/** Writes the protocol's last words and makes sure the socket goes away even if the peer never reads. */
function refuseAndClose(socket: Socket, words: string): void {
  if (socket.destroyed) return;
  socket.end(words);
  // Read (and drop) whatever the peer still sends, so its FIN is seen and the socket closes now
  // rather than at the linger deadline; the protocol is not attached, so nothing reaches it.
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function endpoint(address: string | undefined, port: number | undefined): Endpoint {
  return { address: canonicalSocketAddress(address), port: port ?? 0 };
}

interface Origin {
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly via: ConnectionInfo['via'];
  readonly header?: ProxyHeader;
}

function originFromHeader(header: ProxyHeader, peer: Endpoint, local: Endpoint): Origin {
  if (header.command === 'LOCAL') return { client: peer, server: local, via: 'proxy-v2-local', header };
  const via = header.version === 1 ? 'proxy-v1' : 'proxy-v2';
  if (!header.source || !header.destination) return { client: peer, server: local, via, header };
  return { client: header.source, server: header.destination, via, header };
}

export async function acceptConnection(socket: Socket, context: ListenerContext): Promise<void> {
  const { options, limits } = context;
  const openedAt = Date.now();
  if (socket.remoteAddress === undefined) {
    // Reset before we got to it (HAProxy's health checks close with RST at once): nothing to serve.
    options.logger.debug({ listener: options.id }, 'connection gone before it could be set up');
    socket.destroy();
    return;
  }
  const peer = endpoint(socket.remoteAddress, socket.remotePort);
  const local = endpoint(socket.localAddress, socket.localPort);
  socket.on('error', () => {}); // every failure below is handled through 'close'; none may crash the process

  if (!limits.openSocket()) {
    options.logger.warn({ listener: options.id, peer: peer.address }, 'refused: listener is at max-connections');
    refuseAndClose(socket, options.errors.tooManyConnections);
    return;
  }
  context.sockets.add(socket);
  socket.once('close', () => {
    limits.closeSocket();
    context.sockets.delete(socket);
  });

  const peerIsTrusted = options.proxy.mode !== 'none' && options.proxy.trustedNetworks.has(peer.address);
  let origin: Origin = { client: peer, server: local, via: 'direct' };
  let rest: Buffer | undefined;

  if (options.proxy.mode === 'proxy-protocol' && peerIsTrusted) {
    const outcome = await readProxyHeader(socket, options.proxy.timeoutMs);
    const base = { listener: options.id, peer: `${peer.address}:${peer.port}` };
    switch (outcome.kind) {
      case 'closed':
        options.logger.debug(base, 'trusted peer closed the connection before a PROXY header');
        return;
      case 'timeout':
        options.logger.warn(
          { ...base, timeoutMs: options.proxy.timeoutMs, bytesSeen: outcome.bytesSeen },
          `no PROXY protocol header from trusted peer ${peer.address} within ${options.proxy.timeoutMs}ms: ` +
            `listener "${options.id}" expects one from every peer in its trusted networks; ` +
            'make the proxy send it (HAProxy send-proxy/send-proxy-v2, NGINX proxy_protocol on, Traefik proxyProtocol) ' +
            'or remove that address from proxy.trusted-networks',
        );
        refuseAndClose(socket, options.errors.proxyTimeout);
        return;
      case 'malformed':
        options.logger.warn({ ...base, reason: outcome.reason }, `malformed PROXY header from trusted peer ${peer.address}: ${outcome.reason}`);
        refuseAndClose(socket, options.errors.proxyRefused);
        return;
      case 'header':
        origin = originFromHeader(outcome.header, peer, local);
        if (outcome.rest.length > 0) rest = outcome.rest;
        break;
    }
  }

  const proxyTls = peerIsTrusted ? tlsStateFromProxy(origin.header, options.tls.terminatedByProxy) : null;
  const tlvs = origin.header?.tlvs;
  const proxyDetails =
    tlvs && (tlvs.uniqueId || tlvs.authority || tlvs.alpn)
      ? {
          ...(tlvs.uniqueId ? { uniqueId: tlvs.uniqueId.toString('latin1') } : {}),
          ...(tlvs.authority ? { authority: tlvs.authority } : {}),
          ...(tlvs.alpn ? { alpn: tlvs.alpn } : {}),
        }
      : undefined;

  let info: ConnectionInfo = freezeConnectionInfo({
    id: context.nextId(),
    listener: options.id,
    client: origin.client,
    server: origin.server,
    peer,
    via: origin.via,
    tls: proxyTls,
    ...(proxyDetails ? { proxy: proxyDetails } : {}),
    peerIsTrustedProxy: peerIsTrusted && origin.via !== 'direct',
    openedAt,
  });
  let log: Logger = options.logger.child(connectionLogFields(info));
  const healthCheck = info.via === 'proxy-v2-local';

  const reportUntrustedHeader = () => {
    log.warn(`refused a PROXY header from untrusted peer ${peer.address}: it is not in listener "${options.id}" trusted networks`);
    options.events?.report({ kind: 'scan', reason: 'untrusted-proxy-header', connection: info });
    refuseAndClose(socket, options.errors.proxyRefused);
  };

  let stream: Socket | TLSSocket = socket;
  if (options.tls.implicit) {
    if (!options.tls.secureContext) throw new Error(`listener "${options.id}": implicit TLS without a certificate`);
    let transport: Duplex = socket;
    if (!peerIsTrusted && options.proxy.mode === 'proxy-protocol') {
      // TLS clients speak first, so their first bytes can be checked before the handshake.
      const first = await firstChunk(socket);
      if (!first) return;
      if (detectProxyHeader(first) !== 'none') {
        reportUntrustedHeader();
        return;
      }
      transport = new ReplayStream(socket, first);
    } else if (rest) {
      transport = new ReplayStream(socket, rest);
    }
    rest = undefined;
    const secured = await handshake(transport, options.tls.secureContext);
    if (!secured) {
      log.info('TLS handshake failed or timed out');
      socket.destroy();
      return;
    }
    stream = secured;
    info = withTls(info, tlsStateOfSocket(secured));
    log = options.logger.child(connectionLogFields(info));
  } else if (rest) {
    socket.unshift(rest);
  }

  if (!limits.openClient(info.client.address)) {
    log.warn(`refused: client ${info.client.address} is at max-connections-per-ip`);
    refuseAndClose(socket, options.errors.tooManyConnections);
    return;
  }
  socket.once('close', () => limits.closeClient(info.client.address));

  if (options.admit && !healthCheck) {
    const verdict = await options.admit(info);
    if (verdict.kind === 'refuse') {
      log.debug({ reason: verdict.reason }, 'refused by policy before the greeting');
      if (stream === socket) refuseAndClose(socket, options.errors.refused(verdict.message));
      else stream.destroy();
      return;
    }
  }
  if (socket.destroyed) return;

  if (!peerIsTrusted && options.proxy.mode === 'proxy-protocol' && stream === socket) {
    guardAgainstUntrustedHeader(socket, reportUntrustedHeader);
  }

  const logLevel = healthCheck ? 'debug' : 'info';
  log[logLevel]('connection open');
  const session = { log, reason: 'closed' };
  socket.once('close', () => {
    session.log[logLevel](
      { durationMs: Date.now() - openedAt, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten, reason: session.reason },
      'connection closed',
    );
  });

  // Reading the header paused the socket; a protocol that only attaches 'data' listeners expects a
  // stream that flows (resume takes effect on the next tick, after its listeners are attached).
  if (stream === socket && socket.isPaused()) socket.resume();
  options.onConnection(makeAccepted(stream, info, options, session));
}

/** What the close log line reports: the latest logger (STARTTLS replaces it) and the protocol's reason. */
interface SessionRecord {
  log: Logger;
  reason: string;
}

function makeAccepted(socket: Socket | TLSSocket, info: ConnectionInfo, options: ListenerOptions, session: SessionRecord): AcceptedConnection {
  const context = options.tls.secureContext;
  const canStartTls = context !== undefined && info.tls === null;
  return {
    socket,
    info,
    log: session.log,
    onClose: (reason) => {
      session.reason = reason;
    },
    ...(canStartTls
      ? {
          startTls: async () => {
            const secured = await handshake(socket, context);
            if (!secured) throw new Error('STARTTLS handshake failed');
            const upgraded = withTls(info, tlsStateOfSocket(secured));
            session.log = options.logger.child(connectionLogFields(upgraded));
            session.log.info('STARTTLS done');
            return makeAccepted(secured, upgraded, options, session);
          },
        }
      : {}),
  };
}

function firstChunk(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), TLS_HANDSHAKE_TIMEOUT_MS);
    const done = (chunk: Buffer | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (!chunk) socket.destroy();
      resolve(chunk);
    };
    const onData = (chunk: Buffer) => done(chunk);
    const onClose = () => done(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function handshake(transport: Duplex, secureContext: NonNullable<ListenerOptions['tls']['secureContext']>): Promise<TLSSocket | undefined> {
  return new Promise((resolve) => {
    const secured = new TLSSocket(transport as Socket, { isServer: true, secureContext });
    const timer = setTimeout(() => fail(), TLS_HANDSHAKE_TIMEOUT_MS);
    const fail = () => {
      clearTimeout(timer);
      secured.destroy();
      transport.destroy();
      resolve(undefined);
    };
    secured.once('secure', () => {
      clearTimeout(timer);
      secured.off('error', fail);
      secured.on('error', () => {});
      resolve(secured);
    });
    secured.once('error', fail);
  });
}

