import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import {
  canonicalSocketAddress,
  connectionLogger,
  freezeConnectionInfo,
  withTls,
} from '@portico/core';
import type { AcceptedConnection, ConnectionClosing, ConnectionInfo, ConnectionLines, Endpoint, Verdict } from '@portico/core';
import type { ListenerOptions } from './options.ts';
import type { ConnectionLimits } from './limits.ts';
import { readProxyHeader } from './read-proxy-header.ts';
import type { HeaderOutcome, HeaderWait } from './read-proxy-header.ts';
import { guardAgainstUntrustedHeader } from './untrusted-guard.ts';
import { tlsStateFromProxy, tlsStateOfSocket } from './tls-state.ts';
import { firstChunk, handshake } from './tls-handshake.ts';
import { ReplayStream } from './replay-stream.ts';
import { releaseListeners } from './release-listeners.ts';
import type { OpenConnections, OpenEntry } from './open-connections.ts';
import type { HeaderDeadlines } from './header-deadlines.ts';
import { detectProxyHeader } from './proxy-protocol/index.ts';
import type { ProxyHeader } from './proxy-protocol/index.ts';

/** What the listener fills in before it hands a description out, frozen or as it is. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** How long a refused or timed-out client gets to read our last words before the socket is destroyed. */
const LINGER_MS = 2000;

export interface ListenerContext {
  readonly options: ListenerOptions;
  readonly limits: ConnectionLimits;
  readonly nextId: () => string;
  readonly open: OpenConnections;
  /** The listener's `proxy.timeout` for PROXY headers. */
  readonly headerDeadlines: HeaderDeadlines;
  /**
   * The parent of every connection's logger: a child of `options.logger` made once, because pino
   * builds a formatter object for each child of a root logger (a protocol's `log.child()` on a
   * connection's logger would be one), and none for a child of a child.
   */
  readonly connectionParentLogger: Logger;
  /** Writes every connection's open and close lines (made for `connectionParentLogger`). */
  readonly connectionLines: ConnectionLines;
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

function ignore(): void {}

/** Anything thrown while a connection is set up is that connection's failure, never the process's. */
function setupFailed(socket: Socket, options: ListenerOptions, error: unknown): void {
  // The peer is asked before destroy, which forgets it; it is the address that was accepted.
  const peer = socket.remoteAddress === undefined ? undefined : `${canonicalSocketAddress(socket.remoteAddress)}:${socket.remotePort}`;
  options.logger.error({ listener: options.id, peer, err: error }, 'connection setup failed');
  socket.destroy();
}

/**
 * Sets up one accepted socket and hands it to the protocol. Runs to the end in the current turn
 * unless it must wait (a PROXY header, a TLS handshake, an asynchronous policy), and then goes on
 * from a callback rather than a promise: it runs for every connection, and on this path every
 * promise, closure and object is paid for (see "Cost per connection" in the README). `boundLocal`
 * is the local end of every socket of a server bound to one address (no getsockname needed).
 */
export function acceptConnection(socket: Socket, context: ListenerContext, boundLocal?: Endpoint): void {
  const { options } = context;
  try {
    // Read once: each read asks the socket's handle (a megamorphic lookup) twice or three times.
    const remoteAddress = socket.remoteAddress;
    if (remoteAddress === undefined) {
      // Reset before we got to it (HAProxy's health checks close with RST at once): nothing to serve.
      options.logger.debug({ listener: options.id }, 'connection gone before it could be set up');
      socket.destroy();
      return;
    }
    const peer = endpoint(remoteAddress, socket.remotePort);
    socket.on('error', ignore); // every failure below is handled through 'close'; none may crash the process
    if (!context.limits.openSocket()) {
      options.logger.warn({ listener: options.id, peer: peer.address }, 'refused: listener is at max-connections');
      refuseAndClose(socket, options.errors.tooManyConnections);
      return;
    }
    const setup = new ConnectionSetup(socket, context, peer, boundLocal);
    // One listener for all the bookkeeping rather than one per concern.
    socket.on('close', () => setup.closed());
    if (options.proxy.mode === 'proxy-protocol' && setup.peerIsTrusted) {
      setup.awaitProxyHeader();
    } else {
      setup.describe({ client: peer, via: 'direct' }, undefined);
    }
  } catch (error) {
    setupFailed(socket, options, error);
  }
}

/**
 * One connection on its way to the protocol, and what its 'close' listener has to undo and report.
 * `log` is set when 'connection open' is logged, so that a 'connection closed' line follows; it is
 * the latest logger (STARTTLS replaces it), and `reason` is what the protocol reported.
 */
class ConnectionSetup implements ConnectionClosing {
  readonly peerIsTrusted: boolean;
  readonly openedAt = Date.now();
  // Fields private to TypeScript rather than #private: V8 defines and stores #fields through a
  // keyed IC call each, where plain fields are stored inline (about 0.7 K instructions a connection).
  private readonly entry: OpenEntry;
  private countedClient: string | undefined = undefined;
  log: Logger | undefined = undefined;
  reason = 'closed';
  /** The PROXY header wait of a trusted peer: told when the socket closes (a no-op once it has ended). */
  private headerWait: HeaderWait | undefined = undefined;
  /** Health checks (PROXY v2 LOCAL) log their open and close lines at debug, everything else at info. */
  private lineLevel: 'info' | 'debug' = 'info';

  readonly socket: Socket;
  readonly context: ListenerContext;
  readonly peer: Endpoint;
  readonly boundLocal: Endpoint | undefined;

  constructor(socket: Socket, context: ListenerContext, peer: Endpoint, boundLocal: Endpoint | undefined) {
    this.socket = socket;
    this.context = context;
    this.peer = peer;
    this.boundLocal = boundLocal;
    const { proxy } = context.options;
    this.peerIsTrusted = proxy.mode !== 'none' && proxy.trustedNetworks.has(peer.address);
    this.entry = context.open.add(socket);
  }

  get durationMs(): number {
    return Date.now() - this.openedAt;
  }

  get bytesIn(): number {
    return this.socket.bytesRead;
  }

  get bytesOut(): number {
    return this.socket.bytesWritten;
  }

  closed(): void {
    const { limits } = this.context;
    const socket = this.socket;
    limits.closeSocket();
    this.context.open.remove(this.entry);
    if (this.countedClient !== undefined) limits.closeClient(this.countedClient);
    // The setup is the closing line's ConnectionClosing: its getters are read only if the line is written.
    if (this.log) this.context.connectionLines.closed(this.log, this.lineLevel, this);
    releaseListeners.call(socket);
    this.headerWait?.socketClosed();
  }

  /** Reads the trusted peer's PROXY header, then goes on in headerRead. */
  awaitProxyHeader(): void {
    this.headerWait = readProxyHeader(this.socket, this.context.headerDeadlines, (outcome) => this.headerRead(outcome));
  }

  private headerRead(outcome: HeaderOutcome): void {
    try {
      if (outcome.kind !== 'header') {
        refuseForHeader(this.socket, outcome, this.peer, this.context.options);
        return;
      }
      const rest = outcome.rest.length > 0 ? outcome.rest : undefined;
      // The header was read in flowing mode: bytes that must wait (for the protocol, for the TLS
      // handshake) would otherwise be emitted to nobody.
      if (rest || this.context.options.tls.implicit) this.socket.pause();
      this.describe(originFromHeader(outcome.header, this.peer), rest);
    } catch (error) {
      setupFailed(this.socket, this.context.options, error);
    }
  }

  /** Makes the ConnectionInfo, then checks the first bytes or runs implicit TLS where the listener asks. */
  describe(origin: Origin, rest: Buffer | undefined): void {
    const { socket, peer, peerIsTrusted } = this;
    const { options } = this.context;
    const description: Mutable<ConnectionInfo> = {
      id: this.context.nextId(),
      listener: options.id,
      client: origin.client,
      // Asked of the kernel only when neither the header nor the bind tells.
      server: origin.server ?? this.boundLocal ?? endpoint(socket.localAddress, socket.localPort),
      peer,
      via: origin.via,
      tls: peerIsTrusted ? tlsStateFromProxy(origin.header, options.tls.terminatedByProxy) : null,
      peerIsTrustedProxy: peerIsTrusted && origin.via !== 'direct',
      openedAt: this.openedAt,
    };
    // Added when there is one rather than spread in: a spread costs every connection an object.
    const proxyDetails = proxyDetailsOf(origin.header);
    if (proxyDetails) description.proxy = proxyDetails;
    const info = freezeConnectionInfo(description);
    const log = connectionLogger(this.context.connectionParentLogger, info);
    const untrustedOnProxyListener = !peerIsTrusted && options.proxy.mode === 'proxy-protocol';
    if (options.tls.implicit) {
      this.#secure(info, log, rest, untrustedOnProxyListener).catch((error: unknown) => setupFailed(socket, options, error));
    } else if (rest) {
      socket.unshift(rest);
      this.#admit(socket, info, log);
    } else if (options.clientSpeaksFirst && untrustedOnProxyListener) {
      this.#checkFirstBytes(info, log).catch((error: unknown) => setupFailed(socket, options, error));
    } else {
      this.#admit(socket, info, log);
    }
  }

  async #secure(info: ConnectionInfo, log: Logger, rest: Buffer | undefined, checkFirstBytes: boolean): Promise<void> {
    const { socket } = this;
    const { options } = this.context;
    if (!options.tls.secureContext) throw new Error(`listener "${options.id}": implicit TLS without a certificate`);
    let transport: Duplex = socket;
    if (checkFirstBytes) {
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
    const secured = await handshake(transport, options.tls.secureContext);
    if (!secured) {
      log.info('TLS handshake failed or timed out');
      socket.destroy();
      return;
    }
    const upgraded = withTls(info, tlsStateOfSocket(secured));
    this.#admit(secured, upgraded, connectionLogger(this.context.connectionParentLogger, upgraded));
  }

  async #checkFirstBytes(info: ConnectionInfo, log: Logger): Promise<void> {
    const first = await firstChunk(this.socket);
    if (!first) return;
    if (detectProxyHeader(first) !== 'none') {
      refuseUntrustedHeader(this.socket, info, log, this.context.options);
      return;
    }
    this.socket.unshift(first);
    this.#admit(this.socket, info, log);
  }

  /** max-connections-per-ip, then the policy's verdict (bans, connection rates). */
  #admit(stream: Socket | TLSSocket, info: ConnectionInfo, log: Logger): void {
    const { options, limits } = this.context;
    // A trusted proxy speaking for itself (health checks, PROXY UNSPEC, an X-Forwarded-For listener,
    // whose clients are known per request) carries many clients' traffic: max-connections-per-ip would
    // refuse them all at once, so only real clients are counted.
    if (!(this.peerIsTrusted && info.client.address === this.peer.address)) {
      if (!limits.openClient(info.client.address)) {
        log.warn(`refused: client ${info.client.address} is at max-connections-per-ip`);
        refuseAndClose(stream, options.errors.tooManyConnections);
        return;
      }
      this.countedClient = info.client.address;
    }
    if (!options.admit || info.via === 'proxy-v2-local') {
      this.#handOff(stream, info, log, undefined);
      return;
    }
    const answer = options.admit(info);
    // Most verdicts are known at once; waiting for one anyway would cost every connection a turn.
    if (!(answer instanceof Promise)) {
      this.#handOff(stream, info, log, answer);
      return;
    }
    // Whatever arrives before the verdict waits for the protocol (a socket read for a PROXY header
    // is flowing); #handOff resumes it.
    if (stream === this.socket) this.socket.pause();
    answer.then((verdict) => this.#handOff(stream, info, log, verdict)).catch((error: unknown) => setupFailed(this.socket, options, error));
  }

  #handOff(stream: Socket | TLSSocket, info: ConnectionInfo, log: Logger, verdict: Verdict | undefined): void {
    const { socket } = this;
    const { options } = this.context;
    if (verdict?.kind === 'refuse') {
      log.debug({ reason: verdict.reason }, 'refused by policy before the greeting');
      // On implicit TLS the words go inside the TLS session, where the client can read them.
      refuseAndClose(stream, options.errors.refused(verdict.message));
      return;
    }
    if (socket.destroyed) return;
    if (!this.peerIsTrusted && options.proxy.mode === 'proxy-protocol' && stream === socket && !options.clientSpeaksFirst) {
      guardAgainstUntrustedHeader(socket, () => refuseUntrustedHeader(socket, info, log, options));
    }
    if (info.via === 'proxy-v2-local') this.lineLevel = 'debug';
    this.context.connectionLines.open(log, this.lineLevel);
    this.log = log;
    // A socket paused on the way (bytes after a PROXY header, an asynchronous verdict): a protocol
    // that only attaches 'data' listeners expects a stream that flows (resume takes effect on the
    // next tick, after its listeners are attached).
    if (stream === socket && socket.isPaused()) socket.resume();
    options.onConnection(makeAccepted(stream, info, options, this));
  }
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

/** Made once 'connection open' is logged (and again after STARTTLS), so `setup.log` is set. */
function makeAccepted(socket: Socket | TLSSocket, info: ConnectionInfo, options: ListenerOptions, setup: ConnectionSetup): AcceptedConnection {
  const accepted: Mutable<AcceptedConnection> = {
    socket,
    info,
    log: setup.log!,
    onClose: (reason) => {
      setup.reason = reason;
    },
  };
  const context = options.tls.secureContext;
  if (context !== undefined && info.tls === null) {
    accepted.startTls = async () => {
      const secured = await handshake(socket, context);
      if (!secured) throw new Error('STARTTLS handshake failed');
      const upgraded = withTls(info, tlsStateOfSocket(secured));
      setup.log = connectionLogger(setup.context.connectionParentLogger, upgraded);
      setup.log.info('STARTTLS done');
      return makeAccepted(secured, upgraded, options, setup);
    };
  }
  return accepted;
}
