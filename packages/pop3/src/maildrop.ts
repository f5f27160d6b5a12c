import { createHash } from 'node:crypto';
import type { Pop3MessageEntry } from './types.ts';

/**
 * The maildrop as the session saw it at login (RFC 1939 section 4): message numbers are positions in
 * that listing and never change during the session; DELE only marks, RSET unmarks, and QUIT in
 * TRANSACTION (the UPDATE state) removes what is marked. Messages delivered meanwhile appear at the
 * next login.
 */
export class Maildrop {
  readonly #entries: readonly Pop3MessageEntry[];
  readonly #deleted = new Set<number>();

  constructor(entries: readonly Pop3MessageEntry[]) {
    this.#entries = entries;
  }

  /** The message numbered `n` (1-based) unless it is marked deleted. */
  get(n: number): Pop3MessageEntry | undefined {
    return this.#deleted.has(n) ? undefined : this.#entries[n - 1];
  }

  exists(n: number): boolean {
    return n >= 1 && n <= this.#entries.length;
  }

  isDeleted(n: number): boolean {
    return this.#deleted.has(n);
  }

  /** Messages not marked deleted, with their numbers. */
  visible(): { n: number; entry: Pop3MessageEntry }[] {
    return this.#entries.flatMap((entry, i) => (this.#deleted.has(i + 1) ? [] : [{ n: i + 1, entry }]));
  }

  /** Count and octets of the messages not marked deleted (STAT, RFC 1939 5). */
  stat(): { count: number; size: number } {
    const visible = this.visible();
    return { count: visible.length, size: visible.reduce((sum, m) => sum + m.entry.size, 0) };
  }

  markDeleted(n: number): void {
    this.#deleted.add(n);
  }

  reset(): void {
    this.#deleted.clear();
  }

  marked(): Pop3MessageEntry[] {
    return [...this.#deleted].sort((a, b) => a - b).flatMap((n) => this.#entries[n - 1] ?? []);
  }
}

// RFC 1939 7: a unique-id is 1 to 70 characters in 0x21..0x7E.
const UID = /^[\x21-\x7e]{1,70}$/;

/**
 * The UIDL of a message: its id (the Maildir key, stable across flag changes and sessions) when that is
 * a valid unique-id, else a digest of it (a long hostname can make a Maildir key longer than 70).
 */
export function uidOf(id: string): string {
  return UID.test(id) ? id : createHash('sha256').update(id).digest('base64url').slice(0, 43);
}

/** A message number argument (RFC 1939: a decimal number, 1 or more); undefined when it is not one. */
export function parseNumber(text: string | undefined, allowZero = false): number | undefined {
  if (text === undefined || !(allowZero ? /^\d{1,9}$/ : /^0*[1-9]\d{0,8}$/).test(text)) return undefined;
  return Number(text);
}
