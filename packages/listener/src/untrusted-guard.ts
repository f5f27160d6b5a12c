import type { Socket } from 'node:net';
import { detectProxyHeader } from './proxy-protocol/index.ts';

/**
 * Watches the first bytes of a connection from an untrusted peer on a PROXY-protocol listener and
 * calls `onProxyHeader` instead of delivering them when they are a PROXY header: a header we will not
 * honour must not reach the protocol as if it were a command. Done by intercepting the first 'data'
 * emit because the protocol has already attached its listeners (it may have sent its banner) and an
 * emit cannot be cancelled once started. Restores the socket's own emit once the first bytes are
 * not a header; after a header, every later byte is dropped too, since the connection is being
 * refused and nothing the peer sends may reach the protocol.
 */
export function guardAgainstUntrustedHeader(socket: Socket, onProxyHeader: () => void): void {
  type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  const originalEmit = socket.emit as Emit;
  let held: Buffer | undefined;
  let refused = false;
  const restore = () => {
    socket.emit = originalEmit as Socket['emit'];
  };
  socket.emit = function guardedEmit(this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (refused) return event === 'data' ? true : originalEmit.call(this, event, ...args);
    if (event !== 'data') {
      if (event === 'end' && held) {
        restore();
        originalEmit.call(this, 'data', held);
      }
      return originalEmit.call(this, event, ...args);
    }
    const chunk = args[0] as Buffer;
    const probe = held ? Buffer.concat([held, chunk]) : chunk;
    const seen = detectProxyHeader(probe);
    if (seen === 'partial') {
      held = probe;
      return true;
    }
    held = undefined;
    if (seen === 'v1' || seen === 'v2') {
      refused = true;
      onProxyHeader();
      return true;
    }
    restore();
    return originalEmit.call(this, 'data', probe);
  } as Socket['emit'];
}
