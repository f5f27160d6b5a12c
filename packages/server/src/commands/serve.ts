import type { Logger } from 'pino';
import { formatProblem, loadConfig } from '@portico/config';
import { PorticoError } from '@portico/core';
import { startServer } from '../server.ts';
import { dirname, resolve } from 'node:path';

/** `portico serve`: exit 0 after a clean shutdown on SIGTERM/SIGINT, 1 with one clear line when it cannot start. */
export async function serve(configPath: string, logger: Logger, err: (line: string) => void): Promise<number> {
  const result = loadConfig(configPath);
  if (!result.ok) {
    for (const problem of result.problems) err(formatProblem(problem));
    err(`portico: not starting: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${configPath}`);
    return 1;
  }
  let server;
  try {
    // Relative paths in the config (data-dir, certificates) are relative to the config file.
    server = await startServer(result.config, logger, dirname(resolve(configPath)));
  } catch (error) {
    if (error instanceof PorticoError) {
      err(`portico: not starting: ${error.message}`);
      return 1;
    }
    throw error;
  }
  logger.info({ config: configPath }, 'portico is running');
  const signal = await new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  // Sessions being refused hold only unref'd timers; this keeps the process alive until the
  // shutdown has really finished, so the exit code is ours.
  const keepAlive = setInterval(() => undefined, 1_000);
  const { forced } = await server.shutdown().finally(() => clearInterval(keepAlive));
  logger.info({ forced }, 'portico stopped');
  return 0;
}
