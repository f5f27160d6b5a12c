/** One socket's wait for its PROXY header; give it to `cancel` when the header (or the end) came first. */
export interface HeaderDeadline {
  readonly expiresAt: number;
}

interface Entry extends HeaderDeadline {
  readonly onExpire: () => void;
  previous: Entry | undefined;
  next: Entry | undefined;
}

/**
 * The deadlines of the PROXY headers one listener waits for. They all have the same length, so
 * they expire in the order they were set, and one timer, set for the oldest, serves them all: a
 * Node timer per connection (made, enrolled, cleared) was a visible part of the listener's CPU per
 * connection, and nearly every header arrives within a millisecond.
 */
export class HeaderDeadlines {
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #oldest: Entry | undefined;
  #newest: Entry | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `now` is a monotonic clock in ms (a wall clock set back would hold sockets for as long). */
  constructor(timeoutMs: number, now: () => number = () => performance.now()) {
    this.#timeoutMs = timeoutMs;
    this.#now = now;
  }

  /** Calls `onExpire` once `timeoutMs` have passed, unless cancelled before. */
  start(onExpire: () => void): HeaderDeadline {
    const entry: Entry = {
      expiresAt: this.#now() + this.#timeoutMs,
      onExpire,
      previous: this.#newest,
      next: undefined,
    };
    if (this.#newest) this.#newest.next = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    return entry;
  }

  /** Forgets the deadline; nothing happens if it expired or was cancelled already. */
  cancel(deadline: HeaderDeadline): void {
    this.#remove(deadline as Entry);
  }

  #remove(entry: Entry): void {
    if (entry.previous) entry.previous.next = entry.next;
    else if (this.#oldest === entry) this.#oldest = entry.next;
    else return; // expired or cancelled already
    if (entry.next) entry.next.previous = entry.previous;
    else this.#newest = entry.previous;
    entry.previous = entry.next = undefined;
    // A timer left for a cancelled entry fires once for nothing and is set again for the next one.
  }

  #arm(delayMs: number): void {
    // unref: the sockets keep the process alive, not their deadlines.
    this.#timer = setTimeout(() => this.#expire(), delayMs).unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = this.#now();
    while (this.#oldest && this.#oldest.expiresAt <= now) {
      const entry = this.#oldest;
      this.#remove(entry);
      entry.onExpire();
    }
    if (this.#oldest) this.#arm(this.#oldest.expiresAt - now);
  }
}
