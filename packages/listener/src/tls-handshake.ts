import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import { detectProxyHeader } from './proxy-protocol/index.ts';
import { releaseListeners } from './release-listeners.ts';

const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The first bytes a client sends (TLS and HTTP clients speak first), enough of them to tell whether
 * they start a PROXY header, so that they can be checked before the protocol sees them. Leaves the
 * socket paused; undefined (socket destroyed) on close or timeout.
 */
export function firstChunk(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let held: Buffer | undefined;
    const timer = setTimeout(() => done(undefined), TLS_HANDSHAKE_TIMEOUT_MS);
    const done = (chunk: Buffer | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (!chunk) socket.destroy();
      resolve(chunk);
    };
    const onData = (chunk: Buffer) => {
      held = held ? Buffer.concat([held, chunk]) : chunk;
      // "P" could be "PROXY" or "POST": wait for the byte that tells (a v2 signature is 12 bytes).
      if (detectProxyHeader(held) !== 'partial') done(held);
    };
    const onClose = () => done(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Server side of a TLS handshake on `transport`; undefined (both destroyed) when it fails or times out. */
export function handshake(transport: Duplex, secureContext: SecureContext): Promise<TLSSocket | undefined> {
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
      // Registered before the protocol's listeners; they are still called after it.
      secured.on('close', releaseListeners);
      resolve(secured);
    });
    secured.once('error', fail);
  });
}
