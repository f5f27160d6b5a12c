import type { Logger } from 'pino';
import type { Config, EffectiveProxy, ListenerConfig } from '@portico/config';
import { ALLOW, PorticoError } from '@portico/core';
import type { ConnectionHandler, ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';

/** What the protocols and policies share, built once from the config. */
export interface Services {
  readonly events: SecurityEventSink;
  readonly admit: (info: ConnectionInfo) => Verdict | Promise<Verdict>;
  handlerFor(id: string, listener: ListenerConfig, proxy: EffectiveProxy): ConnectionHandler;
  close(): Promise<void>;
}

export async function createServices(config: Config, logger: Logger, dataDir: string): Promise<Services> {
  void config;
  void dataDir;
  return {
    events: { report: (event) => logger.info({ kind: event.kind, reason: event.reason, client: event.connection.client.address }, 'security event') },
    admit: () => ALLOW,
    handlerFor(id, listener) {
      throw new PorticoError(
        'PORTICO_ERR_SERVER_PROTOCOL_UNAVAILABLE',
        `server.listener.${id}.protocol: "${listener.protocol}" is not implemented yet`,
      );
    },
    async close() {},
  };
}
