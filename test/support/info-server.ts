import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ALLOW, NetworkList } from '../../packages/core/src/index.ts';
import type { AcceptedConnection, ConnectionInfo, ProtocolGreetingErrors, SecurityEvent } from '../../packages/core/src/index.ts';
import { startListener } from '../../packages/listener/src/index.ts';
import type { ProxyMode, RunningListener } from '../../packages/listener/src/index.ts';
import { waitUntil } from './processes.ts';

/**
 * The "info" test protocol: the listener hands the connection over, the server writes
 * `JSON.stringify(conn.info) + "\n"` and ends. If the client's first bytes start with "GET ", the same
 * JSON goes out as the body of an HTTP/1.1 200 response instead (curl, proxies in front of HTTP).
 * A client that sends nothing gets the JSON after SILENT_CLIENT_MS.
 */
const SILENT_CLIENT_MS = 50;

export const INFO_ERRORS: ProtocolGreetingErrors = Object.freeze({
  proxyTimeout: 'ERR proxy-timeout\r\n',
  proxyRefused: 'ERR proxy-refused\r\n',
  tooManyConnections: 'ERR too-many-connections\r\n',
  refused: (message: string) => `ERR refused ${message}\r\n`,
});

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export interface InfoServerOptions {
  readonly id?: string;
  readonly host?: string;
  readonly mode?: ProxyMode;
  /** Default ["127.0.0.1"]: the proxies on loopback are trusted, the 127.0.0.x clients are not. */
  readonly trusted?: readonly string[];
  readonly timeoutMs?: number;
  readonly implicitTls?: boolean;
  readonly terminatedByProxy?: boolean;
  readonly secureContext?: SecureContext;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  /** The protocol's words for refusals (default INFO_ERRORS). */
  readonly errors?: ProtocolGreetingErrors;
  /** Another protocol instead of the info protocol (e.g. handleSmtpSession); every info is still recorded. */
  readonly protocol?: (conn: AcceptedConnection) => void;
}

export interface InfoServer {
  readonly listener: RunningListener;
  readonly host: string;
  readonly port: number;
  /** Every ConnectionInfo handed to onConnection, in order. */
  readonly connections: ConnectionInfo[];
  /** Every pino line (level debug and up), parsed. */
  readonly logs: LogLine[];
  readonly events: SecurityEvent[];
  /** Every ConnectionInfo the listener asked `admit` about (policies: bans, rate limits). */
  readonly admitted: ConnectionInfo[];
  /** Lines at or above a level (e.g. LEVEL.warn), for "nothing went wrong" assertions. */
  logsAtLeast(level: number): LogLine[];
  /** Waits until at least `count` connections were handed over. */
  waitForConnections(count: number, timeoutMs?: number): Promise<ConnectionInfo[]>;
  close(): Promise<void>;
}

function httpResponse(body: string): string {
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

export async function startInfoServer(options: InfoServerOptions = {}): Promise<InfoServer> {
  const logs: LogLine[] = [];
  const connections: ConnectionInfo[] = [];
  const events: SecurityEvent[] = [];
  const admitted: ConnectionInfo[] = [];
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      partial += chunk.toString();
      let newline: number;
      while ((newline = partial.indexOf('\n')) !== -1) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  // A plain object with write() keeps pino synchronous: every line is in `logs` when the call returns.
  const destination = { write: (text: string) => void sink.write(text) };
  const logger = pino({ level: 'debug', base: undefined }, destination as unknown as pino.DestinationStream);
  const host = options.host ?? '127.0.0.1';

  const listener = await startListener({
    id: options.id ?? 'info',
    bind: [`${host}:0`],
    proxy: {
      mode: options.mode ?? 'proxy-protocol',
      trustedNetworks: NetworkList.parse(options.trusted ?? ['127.0.0.1']),
      timeoutMs: options.timeoutMs ?? 3000,
    },
    tls: {
      implicit: options.implicitTls ?? false,
      terminatedByProxy: options.terminatedByProxy ?? false,
      ...(options.secureContext ? { secureContext: options.secureContext } : {}),
    },
    maxConnections: options.maxConnections ?? 1000,
    maxConnectionsPerIp: options.maxConnectionsPerIp ?? 100,
    errors: options.errors ?? INFO_ERRORS,
    logger,
    events: { report: (event) => void events.push(event) },
    admit(info) {
      admitted.push(info);
      return ALLOW;
    },
    onConnection(conn) {
      connections.push(conn.info);
      if (options.protocol) {
        options.protocol(conn);
        return;
      }
      const socket = conn.socket;
      const body = JSON.stringify(conn.info) + '\n';
      let answered = false;
      const answer = (first: Buffer | undefined) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        socket.off('data', onFirst);
        // Keep reading (and discarding) so the client's remaining bytes never turn our close into a reset.
        socket.on('data', () => {});
        socket.resume();
        const isHttp = first !== undefined && first.subarray(0, 4).toString('latin1') === 'GET ';
        conn.onClose(isHttp ? 'http-answered' : 'info-answered');
        socket.end(isHttp ? httpResponse(body) : body);
      };
      const onFirst = (chunk: Buffer) => answer(chunk);
      const timer = setTimeout(() => answer(undefined), SILENT_CLIENT_MS);
      socket.on('data', onFirst);
      socket.on('error', () => {});
      socket.once('close', () => clearTimeout(timer));
      // Explicit: after a PROXY header the listener hands the socket over paused (readableFlowing false),
      // where a bare 'data' listener would never fire. The swaks tests (real SMTP session) do not do this.
      socket.resume();
    },
  });
  const bound = listener.addresses[0];
  if (!bound) throw new Error('listener bound no address');
  return {
    listener,
    host,
    port: bound.port,
    connections,
    logs,
    events,
    admitted,
    logsAtLeast: (level) => logs.filter((l) => l.level >= level),
    waitForConnections: (count, timeoutMs = 5000) =>
      waitUntil(`${count} connection(s) handed over`, () => (connections.length >= count ? connections : undefined), timeoutMs),
    async close() {
      // net.Server#close waits for open connections: destroy them first.
      const stopping = listener.stopAccepting();
      listener.closeAll();
      await stopping;
    },
  };
}

export interface InfoReply {
  /** Everything the server sent, as text. */
  readonly raw: string;
  /** The ConnectionInfo the server reported (the JSON line, or the HTTP body). */
  readonly info?: ConnectionInfo;
  /** The local port of our socket (the client port the server should report). */
  readonly localPort: number;
  /** What our TLS client negotiated (when `tls` was asked for): to compare with the proxy's SSL TLV. */
  readonly tlsSeen?: { readonly version: string; readonly cipher: string; readonly cipherStandardName: string };
}

export interface InfoQuery {
  readonly host: string;
  readonly port: number;
  /** Source address of our connection, e.g. "127.0.0.5". */
  readonly localAddress?: string;
  /** Bytes to write once connected (default "INFO\r\n"). A Buffer may carry a PROXY header. */
  readonly send?: string | Buffer;
  /** Speak TLS to the other end (e.g. HAProxy or NGINX terminating TLS). */
  readonly tls?: {
    readonly servername?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  };
  readonly timeoutMs?: number;
}

/** Parses the info reply: a JSON line, or an HTTP response whose body is the JSON. */
export function parseInfo(raw: string): ConnectionInfo | undefined {
  let text = raw;
  if (text.startsWith('HTTP/')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const line = text.split('\n')[0] ?? '';
  if (!line.startsWith('{')) return undefined;
  return JSON.parse(line) as ConnectionInfo;
}

/** Connects (plain or TLS), sends `send`, reads until the server closes, and parses the info. */
export function queryInfo(query: InfoQuery): Promise<InfoReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const base = { host: query.host, port: query.port, ...(query.localAddress ? { localAddress: query.localAddress } : {}) };
    let socket: Socket;
    let localPort = 0;
    let tlsSeen: InfoReply['tlsSeen'];
    const onReady = () => {
      localPort = socket.localPort ?? localPort;
      if (socket instanceof TLSSocket) {
        const cipher = socket.getCipher();
        tlsSeen = { version: socket.getProtocol() ?? '', cipher: cipher.name, cipherStandardName: cipher.standardName };
      }
      socket.write(query.send ?? 'INFO\r\n');
    };
    if (query.tls) {
      socket = tlsConnect(
        {
          ...base,
          rejectUnauthorized: false,
          ...(query.tls.servername ? { servername: query.tls.servername } : {}),
          ...(query.tls.cert && query.tls.key ? { cert: query.tls.cert, key: query.tls.key } : {}),
          ...(query.tls.maxVersion ? { maxVersion: query.tls.maxVersion } : {}),
        },
        onReady,
      );
    } else {
      socket = connect(base, onReady);
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from ${query.host}:${query.port} within ${query.timeoutMs ?? 5000}ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, query.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('connect', () => (localPort = socket.localPort ?? localPort));
    const finish = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const info = parseInfo(raw);
      resolve({ raw, localPort, ...(info ? { info } : {}), ...(tlsSeen ? { tlsSeen } : {}) });
    };
    socket.once('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the server's last words still counts as an answer.
      if (chunks.length > 0 || error.code === 'ECONNRESET') return;
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The fields a test asserts on (ids, timestamps and ports that vary are left out). */
export function essentials(info: ConnectionInfo | undefined): Record<string, unknown> | undefined {
  if (!info) return undefined;
  return {
    client: info.client.address,
    peer: info.peer.address,
    via: info.via,
    tls: info.tls,
    ...(info.proxy ? { proxy: info.proxy } : {}),
  };
}
