import type { TestContext } from 'node:test';

/** Registers `stop` to run after the test, pass or fail (errors while stopping are reported, not thrown). */
export function stopAfter<T extends { stop?: () => Promise<void>; close?: () => Promise<void>; remove?: () => void }>(
  t: TestContext,
  thing: T,
): T {
  t.after(async () => {
    try {
      if (thing.stop) await thing.stop();
      else if (thing.close) await thing.close();
      else thing.remove?.();
    } catch (error) {
      t.diagnostic(`cleanup failed: ${(error as Error).message}`);
    }
  });
  return thing;
}

type Explain = () => string;
const explainers = new WeakMap<TestContext, Explain[]>();

/** Something to print (process output, log lines) if the test fails. */
export function explainOnFailure(t: TestContext, label: string, explain: Explain): void {
  const list = explainers.get(t) ?? [];
  list.push(() => `${label}:\n${explain()}`);
  explainers.set(t, list);
}

/** Wraps a test body so that, when it throws, every registered explanation goes out as a diagnostic. */
export function explained(fn: (t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await fn(t);
    } catch (error) {
      for (const explain of explainers.get(t) ?? []) {
        try {
          t.diagnostic(explain());
        } catch {
          // never hide the real failure
        }
      }
      throw error;
    }
  };
}
