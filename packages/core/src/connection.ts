/** One endpoint of a TCP connection, address in canonical form (no ::ffff:, compressed lower-case IPv6). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** How the client address was learned. */
export type Via = 'direct' | 'proxy-v1' | 'proxy-v2' | 'proxy-v2-local' | 'x-forwarded-for' | 'forwarded';

export interface TlsState {
  /** 'server': we ran the handshake; 'proxy': a trusted proxy terminated TLS and told us so. */
  readonly terminatedBy: 'server' | 'proxy';
  readonly version?: string;
  readonly cipher?: string;
  readonly sni?: string;
  readonly clientCertVerified?: boolean;
  readonly clientCertCn?: string;
}

/** What a PROXY v2 header told us beyond addresses. */
export interface ProxyDetails {
  readonly uniqueId?: string;
  readonly authority?: string;
  readonly alpn?: string;
}

/**
 * The one immutable description of a connection, made by the listener and passed down.
 * STARTTLS makes a new one (see withTls); nothing mutates one.
 */
export interface ConnectionInfo {
  readonly id: string;
  readonly listener: string;
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly peer: Endpoint;
  readonly via: Via;
  readonly tls: TlsState | null;
  readonly proxy?: ProxyDetails;
  /** True when the client address came from a trusted proxy (the peer is a proxy, not the client). */
  readonly peerIsTrustedProxy: boolean;
  readonly openedAt: number;
}

/** The server end frozen last: a listener bound to one address gives every connection the same one. */
let lastFrozenServer: Endpoint | undefined;

/**
 * Freezes the description and its parts. Freezing an object that is frozen already still costs a
 * call into V8 that checks every property (about 300 instructions), so parts known to be frozen are
 * skipped: a direct connection's client is its peer, and consecutive connections of a listener
 * bound to one address share its server end.
 */
export function freezeConnectionInfo(info: ConnectionInfo): ConnectionInfo {
  Object.freeze(info.client);
  if (info.server !== lastFrozenServer) {
    Object.freeze(info.server);
    lastFrozenServer = info.server;
  }
  if (info.peer !== info.client) Object.freeze(info.peer);
  if (info.tls) Object.freeze(info.tls);
  if (info.proxy) Object.freeze(info.proxy);
  return Object.freeze(info);
}

/** STARTTLS (or any later TLS upgrade) describes the same connection with TLS set. */
export function withTls(info: ConnectionInfo, tls: TlsState): ConnectionInfo {
  return freezeConnectionInfo({ ...info, tls: { ...tls } });
}

export function isEncrypted(info: ConnectionInfo): boolean {
  return info.tls !== null;
}

/** How a log line names the TLS state: "none", "server TLSv1.3", "proxy". */
export function tlsLogText(tls: TlsState | null): string {
  return tls ? `${tls.terminatedBy}${tls.version ? ' ' + tls.version : ''}` : 'none';
}

/**
 * Fields for a pino child logger: enough to find the client and the proxy in one line. Connections
 * get them through connectionLogger (connection-logger.ts), which writes the same fields faster.
 */
export function connectionLogFields(info: ConnectionInfo): Record<string, string> {
  return {
    conn: info.id,
    listener: info.listener,
    client: `${info.client.address}:${info.client.port}`,
    peer: `${info.peer.address}:${info.peer.port}`,
    via: info.via,
    tls: tlsLogText(info.tls),
  };
}
