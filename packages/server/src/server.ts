import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { effectiveProxy } from '@portico/config';
import type { Config } from '@portico/config';
import { startListener } from '@portico/listener';
import type { RunningListener } from '@portico/listener';
import { loadSecureContext } from './tls-material.ts';
import { greetingErrors } from './protocol-errors.ts';
import { createServices } from './services.ts';

export interface RunningServer {
  readonly listeners: readonly RunningListener[];
  /** Stops accepting, lets open sessions finish for up to shutdown-timeout, then closes the rest. */
  shutdown(): Promise<{ forced: number }>;
}

/**
 * Starts every listener of the config, all or nothing: when one cannot start (port in use, bad
 * certificate), those already started are closed again and the error is thrown.
 */
export async function startServer(config: Config, logger: Logger, baseDir = process.cwd()): Promise<RunningServer> {
  const secureContext = await loadSecureContext(config, baseDir);
  const services = await createServices(config, logger, resolve(baseDir, config.server['data-dir']));
  const listeners: RunningListener[] = [];
  try {
    for (const [id, listener] of Object.entries(config.server.listener)) {
      const proxy = effectiveProxy(config, listener);
      const running = await startListener({
        id,
        bind: listener.bind,
        proxy: { mode: proxy.mode, trustedNetworks: proxy.trustedNetworks, timeoutMs: proxy.timeoutMs },
        tls: { implicit: listener.tls.implicit, terminatedByProxy: listener.tls['terminated-by-proxy'], secureContext },
        maxConnections: listener['max-connections'],
        maxConnectionsPerIp: listener['max-connections-per-ip'],
        errors: greetingErrors(listener.protocol, config.server.hostname),
        logger,
        events: services.events,
        admit: services.admitFor(id),
        clientSpeaksFirst: listener.protocol === 'http',
        onConnection: await services.handlerFor(id, listener, proxy),
      });
      listeners.push(running);
      for (const address of running.addresses) {
        logger.info(
          { listener: id, protocol: listener.protocol, address: `${address.address}:${address.port}`, proxy: proxy.mode, trusted: proxy.trustedNetworks.toStrings(), tls: listener.tls.implicit ? 'implicit' : listener.protocol === 'http' ? 'plain' : 'starttls' },
          `listening on ${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port} (${id}, ${listener.protocol})`,
        );
      }
    }
  } catch (error) {
    await Promise.all(listeners.map((l) => l.stopAccepting()));
    for (const l of listeners) l.closeAll();
    await services.close();
    throw error;
  }

  return {
    listeners,
    async shutdown() {
      await Promise.all(listeners.map((l) => l.stopAccepting()));
      const open = listeners.reduce((n, l) => n + l.activeConnections, 0);
      logger.info({ open, timeoutMs: config.server['shutdown-timeout'] }, 'stopped accepting; waiting for open sessions');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), config.server['shutdown-timeout'])));
      const outcome = await Promise.race([Promise.all(listeners.map((l) => l.drained())).then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      const forced = listeners.reduce((n, l) => n + l.activeConnections, 0);
      if (outcome === 'timeout') {
        logger.warn({ forced }, 'shutdown-timeout reached: closing the remaining sessions');
        for (const l of listeners) l.closeAll();
      }
      await services.close();
      return { forced };
    },
  };
}
