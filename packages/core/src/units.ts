/** The one parser of durations ("500ms", "5s", "2m", "1h", "1d", "1w") and rates ("10/1h", "120/1m"). */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;
const RATE = /^(\d{1,9})\/(\d{0,9})(ms|s|m|h|d|w)$/;

export const DURATION_HINT = 'a duration such as "500ms", "5s", "2m", "1h", "1d" or "1w"';
export const RATE_HINT = 'a rate "N/duration" such as "10/1h" or "120/1m"';

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export interface Rate {
  readonly count: number;
  readonly perMs: number;
}

/** A rate like "10/1h" (also "10/h"), or undefined. The count must be at least 1. */
export function parseRate(text: string): Rate | undefined {
  const m = RATE.exec(text.trim());
  if (!m) return undefined;
  const count = Number(m[1]);
  const amount = m[2] === '' ? 1 : Number(m[2]);
  if (count < 1 || amount < 1) return undefined;
  return { count, perMs: amount * UNIT_MS[m[3]!]! };
}

export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
