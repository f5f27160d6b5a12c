import pino from 'pino';
import type { Logger } from 'pino';

/** JSON lines on stdout; PORTICO_LOG_LEVEL chooses the level (default info). */
export function createLogger(destination?: NodeJS.WritableStream): Logger {
  const level = process.env.PORTICO_LOG_LEVEL ?? 'info';
  // Nothing logs secrets on purpose; these paths are a net for mistakes. Explicit paths only: a
  // wildcard ("*.password") makes pino clone every logged object, a cost paid on every line.
  const redact = ['password', 'authorization', 'req.headers.authorization', 'headers.authorization'];
  const options = { level, base: { app: 'portico' }, redact };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options, pino.destination({ sync: true }));
}
