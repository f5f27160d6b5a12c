import type { Socket } from 'node:net';

/** One open socket's place in the list; kept by the connection so that removing it costs nothing. */
export interface OpenEntry {
  readonly socket: Socket;
  previous: OpenEntry | undefined;
  next: OpenEntry | undefined;
}

/**
 * The sockets a listener has open, for shutdown (close them all, wait until none is left).
 * A linked list rather than a Set: a socket is added and removed on every connection, and a Set
 * hashes each one, a cost that showed in the per-connection CPU benchmark.
 */
export class OpenConnections {
  #first: OpenEntry | undefined;
  #size = 0;
  #emptyWaiters: (() => void)[] = [];

  get size(): number {
    return this.#size;
  }

  add(socket: Socket): OpenEntry {
    const entry: OpenEntry = { socket, previous: undefined, next: this.#first };
    if (this.#first) this.#first.previous = entry;
    this.#first = entry;
    this.#size++;
    return entry;
  }

  remove(entry: OpenEntry): void {
    if (entry.previous) entry.previous.next = entry.next;
    else if (this.#first === entry) this.#first = entry.next;
    else return; // already removed
    if (entry.next) entry.next.previous = entry.previous;
    entry.previous = entry.next = undefined;
    this.#size--;
    // Waiters run after the other 'close' listeners of the last socket (the protocol's own).
    if (this.#size === 0 && this.#emptyWaiters.length > 0) setImmediate(() => this.#wakeIfEmpty());
  }

  destroyAll(): void {
    for (let entry = this.#first; entry; entry = entry.next) entry.socket.destroy();
  }

  /** Resolves once no socket is open (at once if none is). */
  whenEmpty(): Promise<void> {
    return new Promise((resolve) => {
      this.#emptyWaiters.push(resolve);
      if (this.#size === 0) setImmediate(() => this.#wakeIfEmpty());
    });
  }

  #wakeIfEmpty(): void {
    if (this.#size === 0) for (const resolve of this.#emptyWaiters.splice(0)) resolve();
  }
}
