import type { Socket } from 'node:net';
import { ProxyHeaderReader } from './proxy-protocol/index.ts';
import type { HeaderDeadlines } from './header-deadlines.ts';
import type { ProxyHeader } from './proxy-protocol/index.ts';

export type HeaderOutcome =
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly rest: Buffer }
  | { readonly kind: 'timeout'; readonly bytesSeen: number }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'closed' };

/** A header being waited for; the caller reports the socket's 'close' through it. */
export interface HeaderWait {
  /** Ends the wait with a 'closed' outcome, unless it has ended already. */
  socketClosed(): void;
}

/**
 * Reads a PROXY header from a trusted peer with an absolute deadline (not an idle timer: a proxy
 * that trickles bytes must not keep the socket forever), then calls `done` once, with nothing
 * consumed beyond the header: the bytes after it come back as `rest`. The caller keeps an 'error'
 * listener on the socket (an error destroys it) and a 'close' listener, which calls `socketClosed`
 * on the returned wait: one 'close' listener per socket rather than two, added and removed. A
 * callback, not a promise: it runs for nearly every connection of a proxied listener, and the header
 * nearly always comes in the first read, so the caller goes on in that same turn.
 *
 * The socket is left flowing, its only 'data' listener ours, which ignores everything after the
 * header: within `done`, the caller either attaches its reader or pauses the socket, or later bytes
 * are lost. Not pausing here spares the common case (the
 * protocol takes the socket in that same turn) a pause and a resume, and the tick a resume takes.
 */
export function readProxyHeader(socket: Socket, deadlines: HeaderDeadlines, done: (outcome: HeaderOutcome) => void): HeaderWait {
  const reader = new ProxyHeaderReader();
  let bytesSeen = 0;
  let waiting = true;
  const finish = (outcome: HeaderOutcome) => {
    if (!waiting) return;
    waiting = false;
    deadlines.cancel(deadline);
    done(outcome);
  };
  // Left on the socket once the wait is over, doing nothing: removing a stream's 'data' listener
  // cost some 650 instructions a connection (callgrind), and the socket's 'close' removes them all.
  const onData = (chunk: Buffer) => {
    if (!waiting) return;
    bytesSeen += chunk.length;
    const step = reader.push(chunk);
    if (step.state === 'done') finish({ kind: 'header', header: step.header, rest: step.rest });
    else if (step.state === 'malformed') finish({ kind: 'malformed', reason: step.reason });
  };
  const deadline = deadlines.start(() => finish({ kind: 'timeout', bytesSeen }));
  socket.on('data', onData);
  return { socketClosed: () => finish({ kind: 'closed' }) };
}
