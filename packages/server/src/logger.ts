import pino from 'pino';
import type { Logger } from 'pino';
import { batchedDestination, DEFAULT_BATCH } from './log-destination.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The log destination the environment asks for: stdout, lines written in batches at most
 * PORTICO_LOG_FLUSH_MS (default 200) after they are made; 0 writes every line at once.
 */
export function stdoutDestination(env: NodeJS.ProcessEnv = process.env): pino.DestinationStream {
  const text = env.PORTICO_LOG_FLUSH_MS;
  if (text === undefined || text === '') return batchedDestination(1);
  if (!/^\d{1,5}$/.test(text)) {
    throw new Error(`PORTICO_LOG_FLUSH_MS: expected a whole number of milliseconds (0 writes every line at once), got "${text}"`);
  }
  const maxDelayMs = Number(text);
  return maxDelayMs === 0 ? pino.destination({ dest: 1, sync: true }) : batchedDestination(1, { ...DEFAULT_BATCH, maxDelayMs });
}

/**
 * JSON lines, to stdout unless a destination is given (tests, benchmarks). PORTICO_LOG_LEVEL
 * chooses the level (default info). Throws an Error naming the variable when one is not valid.
 */
export function createLogger(destination?: pino.DestinationStream | NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = env.PORTICO_LOG_LEVEL || 'info';
  if (!LEVELS.includes(level)) throw new Error(`PORTICO_LOG_LEVEL: expected one of ${LEVELS.join(', ')}, got "${level}"`);
  // Nothing logs secrets on purpose; these paths are a net for mistakes. Explicit paths only: a
  // wildcard ("*.password") makes pino clone every logged object, a cost paid on every line.
  const redact = ['password', 'authorization', 'req.headers.authorization', 'headers.authorization'];
  const options = { level, base: { app: 'portico' }, redact };
  return pino(options, (destination ?? stdoutDestination(env)) as pino.DestinationStream);
}
