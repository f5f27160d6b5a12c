import type { Socket } from 'node:net';
import { detectProxyHeader } from './proxy-protocol/index.ts';

/**
 * Watches the first bytes of a connection from an untrusted peer on a PROXY-protocol listener and
 * calls `onProxyHeader` instead of delivering them when they are a PROXY header: a header we will not
 * honour must not reach the protocol as if it were a command. Done by intercepting the first 'data'
 * emit because the protocol has already attached its listeners (it may have sent its banner) and an
 * emit cannot be cancelled once started. Restores the socket's own emit after the first decision.
 */
export function guardAgainstUntrustedHeader(socket: Socket, onProxyHeader: () => void): void {
  type Emit = (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  const originalEmit = socket.emit as Emit;
  let held: Buffer | undefined;
  const restore = () => {
    socket.emit = originalEmit as Socket['emit'];
  };
  socket.emit = function guardedEmit(this: Socket, event: string | symbol, ...args: unknown[]): boolean {
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
    restore();
    held = undefined;
    if (seen === 'v1' || seen === 'v2') {
      onProxyHeader();
      return true;
    }
    return originalEmit.call(this, 'data', probe);
  } as Socket['emit'];
}
