import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
import type { HeaderOutcome } from './read-proxy-header.ts';
import { guardAgainstUntrustedHeader } from './untrusted-guard.ts';
import { tlsStateFromProxy, tlsStateOfSocket } from './tls-state.ts';
import { firstChunk, handshake } from './tls-handshake.ts';
import { ReplayStream } from './replay-stream.ts';
import type { OpenConnections } from './open-connections.ts';
import type { HeaderDeadlines } from './header-deadlines.ts';
import { detectProxyHeader } from './proxy-protocol/index.ts';
import type { ProxyHeader } from './proxy-protocol/index.ts';

/** How long a refused or timed-out client gets to read our last words before the socket is destroyed. */
const LINGER_MS = 2000;

export interface ListenerContext {
  readonly options: ListenerOptions;
  readonly limits: ConnectionLimits;
  readonly nextId: () => string;
  readonly open: OpenConnections;
  /** The listener's `proxy.timeout` for PROXY headers. */
  readonly headerDeadlines: HeaderDeadlines;
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

/** Who the client is, as the PROXY header (or its absence) tells. No `server`: the socket's own local end. */
interface Origin {
  readonly client: Endpoint;
  readonly server?: Endpoint;
  readonly via: ConnectionInfo['via'];
  readonly header?: ProxyHeader;
}

function originFromHeader(header: ProxyHeader, peer: Endpoint): Origin {
  if (header.command === 'LOCAL') return { client: peer, via: 'proxy-v2-local', header };
  const via = header.version === 1 ? 'proxy-v1' : 'proxy-v2';
  if (!header.source || !header.destination) return { client: peer, via, header };
  return { client: header.source, server: header.destination, via, header };
}

/**
 * What the connection's one 'close' listener has to undo and report, filled in as the setup goes.
 * `log` is set when 'connection open' is logged, so that a 'connection closed' line follows; it is
 * the latest logger (STARTTLS replaces it), and `reason` is what the protocol reported.
 */
interface ConnectionRecord {
  countedClient?: string;
  log?: Logger;
  reason: string;
  /** Health checks (PROXY v2 LOCAL) log their open and close lines at debug, everything else at info. */
  level: 'info' | 'debug';
  readonly openedAt: number;
}

function logClosed(socket: Socket, record: ConnectionRecord): void {
  if (!record.log?.isLevelEnabled(record.level)) return;
  record.log[record.level](
    { durationMs: Date.now() - record.openedAt, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten, reason: record.reason },
    'connection closed',
  );
}

function ignore(): void {}

/**
 * Sets up one accepted socket and hands it to the protocol. It runs to the end in the current turn
 * unless it must wait (a PROXY header, a TLS handshake, an asynchronous policy), and allocates
 * little on the way: it runs for every connection. `boundLocal` is the local end of every socket of
 * a server bound to one address (no getsockname needed).
 */
export async function acceptConnection(socket: Socket, context: ListenerContext, boundLocal?: Endpoint): Promise<void> {
  const { options, limits } = context;
  const openedAt = Date.now();
  if (socket.remoteAddress === undefined) {
    // Reset before we got to it (HAProxy's health checks close with RST at once): nothing to serve.
    options.logger.debug({ listener: options.id }, 'connection gone before it could be set up');
    socket.destroy();
    return;
  }
  const peer = endpoint(socket.remoteAddress, socket.remotePort);
  socket.on('error', ignore); // every failure below is handled through 'close'; none may crash the process

  if (!limits.openSocket()) {
    options.logger.warn({ listener: options.id, peer: peer.address }, 'refused: listener is at max-connections');
    refuseAndClose(socket, options.errors.tooManyConnections);
    return;
  }
  const entry = context.open.add(socket);
  // One listener for all the bookkeeping rather than one per concern.
  const record: ConnectionRecord = { reason: 'closed', level: 'info', openedAt };
  socket.on('close', () => {
    limits.closeSocket();
    context.open.remove(entry);
    if (record.countedClient !== undefined) limits.closeClient(record.countedClient);
    logClosed(socket, record);
  });

  const peerIsTrusted = options.proxy.mode !== 'none' && options.proxy.trustedNetworks.has(peer.address);
  let origin: Origin = { client: peer, via: 'direct' };
  let rest: Buffer | undefined;

  if (options.proxy.mode === 'proxy-protocol' && peerIsTrusted) {
    const outcome = await readProxyHeader(socket, context.headerDeadlines);
    if (outcome.kind !== 'header') {
      refuseForHeader(socket, outcome, peer, options);
      return;
    }
    origin = originFromHeader(outcome.header, peer);
    if (outcome.rest.length > 0) rest = outcome.rest;
  }

  const proxyTls = peerIsTrusted ? tlsStateFromProxy(origin.header, options.tls.terminatedByProxy) : null;
  const proxyDetails = proxyDetailsOf(origin.header);
  let info: ConnectionInfo = freezeConnectionInfo({
    id: context.nextId(),
    listener: options.id,
    client: origin.client,
    // Asked of the kernel only when neither the header nor the bind tells.
    server: origin.server ?? boundLocal ?? endpoint(socket.localAddress, socket.localPort),
    peer,
    via: origin.via,
    tls: proxyTls,
    ...(proxyDetails ? { proxy: proxyDetails } : {}),
    peerIsTrustedProxy: peerIsTrusted && origin.via !== 'direct',
    openedAt,
  });
  let log: Logger = options.logger.child(connectionLogFields(info));
  const healthCheck = info.via === 'proxy-v2-local';

  let stream: Socket | TLSSocket = socket;
  if (options.tls.implicit) {
    if (!options.tls.secureContext) throw new Error(`listener "${options.id}": implicit TLS without a certificate`);
    let transport: Duplex = socket;
    if (!peerIsTrusted && options.proxy.mode === 'proxy-protocol') {
      // TLS clients speak first, so their first bytes can be checked before the handshake.
      const first = await firstChunk(socket);
      if (!first) return;
      if (detectProxyHeader(first) !== 'none') {
        refuseUntrustedHeader(socket, info, log, options);
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
  } else if (options.clientSpeaksFirst && !peerIsTrusted && options.proxy.mode === 'proxy-protocol') {
    const first = await firstChunk(socket);
    if (!first) return;
    if (detectProxyHeader(first) !== 'none') {
      refuseUntrustedHeader(socket, info, log, options);
      return;
    }
    socket.unshift(first);
  }

  // A trusted proxy speaking for itself (health checks, PROXY UNSPEC, an X-Forwarded-For listener,
  // whose clients are known per request) carries many clients' traffic: max-connections-per-ip would
  // refuse them all at once, so only real clients are counted.
  const proxyItself = peerIsTrusted && info.client.address === peer.address;
  if (!proxyItself) {
    if (!limits.openClient(info.client.address)) {
      log.warn(`refused: client ${info.client.address} is at max-connections-per-ip`);
      refuseAndClose(stream, options.errors.tooManyConnections);
      return;
    }
    record.countedClient = info.client.address;
  }

  if (options.admit && !healthCheck) {
    const answer = options.admit(info);
    // Most verdicts are known at once; awaiting one anyway would cost every connection a turn.
    const verdict = answer instanceof Promise ? await answer : answer;
    if (verdict.kind === 'refuse') {
      log.debug({ reason: verdict.reason }, 'refused by policy before the greeting');
      // On implicit TLS the words go inside the TLS session, where the client can read them.
      refuseAndClose(stream, options.errors.refused(verdict.message));
      return;
    }
  }
  if (socket.destroyed) return;

  if (!peerIsTrusted && options.proxy.mode === 'proxy-protocol' && stream === socket && !options.clientSpeaksFirst) {
    guardAgainstUntrustedHeader(socket, () => refuseUntrustedHeader(socket, info, log, options));
  }

  if (healthCheck) record.level = 'debug';
  log[record.level]('connection open');
  record.log = log;

  // Reading the header paused the socket; a protocol that only attaches 'data' listeners expects a
  // stream that flows (resume takes effect on the next tick, after its listeners are attached).
  if (stream === socket && socket.isPaused()) socket.resume();
  options.onConnection(makeAccepted(stream, info, options, record));
}

/** A trusted peer that sent no usable PROXY header: log why, answer in the protocol's words, close. */
function refuseForHeader(socket: Socket, outcome: Exclude<HeaderOutcome, { kind: 'header' }>, peer: Endpoint, options: ListenerOptions): void {
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
  }
}

/** A PROXY header from a peer we do not trust: a scan or a misconfigured proxy, refused either way. */
function refuseUntrustedHeader(socket: Socket, info: ConnectionInfo, log: Logger, options: ListenerOptions): void {
  log.warn(`refused a PROXY header from untrusted peer ${info.peer.address}: it is not in listener "${options.id}" trusted networks`);
  options.events?.report({ kind: 'scan', reason: 'untrusted-proxy-header', connection: info });
  refuseAndClose(socket, options.errors.proxyRefused);
}

/** What a PROXY v2 header told beyond addresses (unique id, authority, ALPN), when it told any. */
function proxyDetailsOf(header: ProxyHeader | undefined): ConnectionInfo['proxy'] {
  const tlvs = header?.tlvs;
  if (!tlvs || !(tlvs.uniqueId || tlvs.authority || tlvs.alpn)) return undefined;
  return {
    ...(tlvs.uniqueId ? { uniqueId: tlvs.uniqueId.toString('latin1') } : {}),
    ...(tlvs.authority ? { authority: tlvs.authority } : {}),
    ...(tlvs.alpn ? { alpn: tlvs.alpn } : {}),
  };
}

/** Made once 'connection open' is logged (and again after STARTTLS), so `record.log` is set. */
function makeAccepted(socket: Socket | TLSSocket, info: ConnectionInfo, options: ListenerOptions, record: ConnectionRecord): AcceptedConnection {
  const context = options.tls.secureContext;
  const canStartTls = context !== undefined && info.tls === null;
  return {
    socket,
    info,
    log: record.log!,
    onClose: (reason) => {
      record.reason = reason;
    },
    ...(canStartTls
      ? {
          startTls: async () => {
            const secured = await handshake(socket, context);
            if (!secured) throw new Error('STARTTLS handshake failed');
            const upgraded = withTls(info, tlsStateOfSocket(secured));
            record.log = options.logger.child(connectionLogFields(upgraded));
            record.log.info('STARTTLS done');
            return makeAccepted(secured, upgraded, options, record);
          },
        }
      : {}),
  };
}
