import type { Socket } from 'node:net';
import { ProxyHeaderReader } from './proxy-protocol/index.ts';
import type { ProxyHeader } from './proxy-protocol/index.ts';

export type HeaderOutcome =
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly rest: Buffer }
  | { readonly kind: 'timeout'; readonly bytesSeen: number }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'closed' };

/**
 * Reads a PROXY header from a trusted peer with an absolute deadline (not an idle timer: a proxy
 * that trickles bytes must not keep the socket forever). Leaves the socket paused, with nothing
 * consumed beyond the header: the bytes after it come back as `rest`.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<HeaderOutcome> {
  return new Promise((resolve) => {
    const reader = new ProxyHeaderReader();
    let bytesSeen = 0;
    const finish = (outcome: HeaderOutcome) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      bytesSeen += chunk.length;
      const step = reader.push(chunk);
      if (step.state === 'done') finish({ kind: 'header', header: step.header, rest: step.rest });
      else if (step.state === 'malformed') finish({ kind: 'malformed', reason: step.reason });
    };
    const onClose = () => finish({ kind: 'closed' });
    const timer = setTimeout(() => finish({ kind: 'timeout', bytesSeen }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}
