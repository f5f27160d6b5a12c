import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountIdOf } from './ids.ts';
import type { MailState, Listing } from './state.ts';

/**
 * The JMAP push event source (RFC 8620 section 7.3): text/event-stream with "state" events (StateChange)
 * when the account's Email / Mailbox / Thread states change, found by polling the store, and "ping"
 * events when asked. closeafter=state ends the stream after the first state event.
 */

export interface EventStreams {
  /** Answers once the stream is open, with the account's current states as the baseline. */
  open(request: FastifyRequest, reply: FastifyReply, account: string): Promise<void>;
  /** Ends every stream (the app is closing). */
  closeAll(): void;
}

const TYPES = ['Email', 'Mailbox', 'Thread'];

function statesOf(listing: Listing): Record<string, string> {
  return { Email: listing.emailState, Mailbox: listing.mailboxState, Thread: listing.emailState };
}

export function createEventStreams(state: MailState, pollMs: number): EventStreams {
  const open = new Set<() => void>();
  return {
    async open(request, reply, account) {
      const raw = request.query as Record<string, unknown>;
      const one = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string) : undefined);
      const query = { types: one('types'), closeafter: one('closeafter'), ping: one('ping') };
      const wanted = !query.types || query.types === '*' ? TYPES : query.types.split(',').filter((t) => TYPES.includes(t));
      const closeAfterState = query.closeafter === 'state';
      const pingSeconds = Math.min(Math.max(Number(query.ping) || 0, 0), 3600);
      const accountId = accountIdOf(account);
      // The baseline is read before the answer starts: whatever changes after the client saw 200 is sent.
      let last = statesOf(await state.load(account));
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-store', connection: 'keep-alive' });
      res.write(': portico jmap event source\n\n');
      let busy = false;
      const poll = async () => {
        if (busy) return;
        busy = true;
        try {
          const now = statesOf(await state.load(account));
          if (res.writableEnded) return;
          const changed = Object.fromEntries(wanted.filter((t) => now[t] !== last[t]).map((t) => [t, now[t]!]));
          last = now;
          if (Object.keys(changed).length > 0) {
            res.write(`event: state\ndata: ${JSON.stringify({ '@type': 'StateChange', changed: { [accountId]: changed } })}\n\n`);
            if (closeAfterState) end();
          }
        } catch (err) {
          request.log.warn({ err }, 'jmap event source could not read the store');
        } finally {
          busy = false;
        }
      };
      const timers = [setInterval(() => void poll(), pollMs)];
      if (pingSeconds > 0) {
        timers.push(setInterval(() => res.write(`event: ping\ndata: ${JSON.stringify({ interval: pingSeconds })}\n\n`), pingSeconds * 1000));
      }
      const end = () => {
        for (const t of timers) clearInterval(t);
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      res.on('close', end);
    },
    closeAll() {
      for (const end of [...open]) end();
    },
  };
}
