import pino from 'pino';
import type { Logger } from 'pino';

/** JSON lines on stdout; PORTICO_LOG_LEVEL chooses the level (default info). */
export function createLogger(destination?: NodeJS.WritableStream): Logger {
  const level = process.env.PORTICO_LOG_LEVEL ?? 'info';
  const options = { level, base: { app: 'portico' }, redact: ['password', '*.password', 'authorization'] };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options, pino.destination({ sync: true }));
}
