import { pino } from 'pino';
import type { Logger, LoggerOptions } from 'pino';

/**
 * For the logging tests: a parent logger made as the server makes one (base fields, redaction, a
 * child of the root), with a fixed time, `options` on top; the lines it wrote, and how many of them
 * pino formatted itself (to tell which way a line went).
 */
export function testParentLogger(
  options: LoggerOptions = {},
  bindings: Record<string, string> = {},
): { parent: Logger; lines: string[]; formattedByPino: () => number } {
  const lines: string[] = [];
  const root = pino(
    { level: 'info', base: { app: 'portico' }, redact: ['password', 'authorization'], timestamp: () => ',"time":0', ...options },
    { write: (line: string) => void lines.push(line) },
  );
  const asJson = pino.symbols.asJsonSym as unknown as symbol;
  const internals = root as unknown as Record<symbol, (...args: unknown[]) => string>;
  const original = internals[asJson]!;
  let formatted = 0;
  internals[asJson] = function (this: unknown, ...args: unknown[]) {
    formatted++;
    return original.apply(this, args);
  };
  return { parent: root.child(bindings), lines, formattedByPino: () => formatted };
}
