/** One socket's wait for its PROXY header; give it to `cancel` when the header (or the end) came first. */
export interface HeaderDeadline {
  readonly expiresAtTick: number;
}

interface Entry extends HeaderDeadline {
  readonly onExpire: () => void;
  previous: Entry | undefined;
  next: Entry | undefined;
}

/** Ticks in one timeout: a deadline expires up to 1/STEPS of the timeout late, never early. */
const STEPS = 8;

/**
 * The deadlines of the PROXY headers one listener waits for. They all have the same length, so
 * they expire in the order they were set, and one timer serves them all: a Node timer per
 * connection (made, enrolled, cleared) was a visible part of the listener's CPU per connection, and
 * nearly every header arrives within a millisecond.
 *
 * The timer ticks every timeout/8 (rounded up to whole ms) while deadlines wait, and stops when none
 * does. A deadline set between two ticks expires at the ninth tick after it: between the timeout and
 * 9/8 of it after it was set (5 to 5.625 s for the default 5 s). Counting ticks rather than reading a
 * clock for each deadline spares every proxied connection a clock read, about 0.9 K instructions
 * (callgrind, the listener benchmark's server); ticks count Node's timer clock, which is monotonic.
 */
export class HeaderDeadlines {
  readonly #tickMs: number;
  #ticks = 0;
  #oldest: Entry | undefined;
  #newest: Entry | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#tickMs = Math.max(1, Math.ceil(timeoutMs / STEPS));
  }

  /** Calls `onExpire` once the timeout has passed (at most 1/8 of it later), unless cancelled before. */
  start(onExpire: () => void): HeaderDeadline {
    // With the timer running, the next tick may come at once, so the deadline is the ninth tick; a
    // timer started now ticks first a whole tick from now, so it is the eighth.
    const stopped = this.#timer === undefined;
    const entry: Entry = { expiresAtTick: this.#ticks + (stopped ? STEPS : STEPS + 1), onExpire, previous: this.#newest, next: undefined };
    if (this.#newest) this.#newest.next = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    // unref: the sockets keep the process alive, not their deadlines.
    if (stopped) this.#timer = setTimeout(this.#tick, this.#tickMs).unref();
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
  }

  readonly #tick = (): void => {
    const ticks = ++this.#ticks;
    while (this.#oldest && this.#oldest.expiresAtTick <= ticks) {
      const entry = this.#oldest;
      this.#remove(entry);
      entry.onExpire();
    }
    this.#timer = this.#oldest ? setTimeout(this.#tick, this.#tickMs).unref() : undefined;
  };
}
