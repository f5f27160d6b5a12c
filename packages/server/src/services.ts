import type { Logger } from 'pino';
import type { Config, EffectiveProxy, ListenerConfig } from '@portico/config';
import type { ConnectionHandler, ConnectionInfo, SecurityEventSink, Verdict } from '@portico/core';
import { Accounts, MaildirStore } from '@portico/store';
import { MailAuthenticator } from '@portico/mailauth';
import { handleSmtpSession } from '@portico/smtp';
import { handleImapSession } from '@portico/imap';
import { handlePop3Session } from '@portico/pop3';
import { createHttpApp } from '@portico/http';
import type { DiscoveryService, HttpApp } from '@portico/http';
import type { RateLimits } from '@portico/ratelimit';
import { forwardedResolver, parseBindAddress } from '@portico/listener';
import { createAutoBan, openBanStore, openRedis, RateLimitRegistry } from './policies.ts';
import { maildirMailboxAccess } from './mailbox-access.ts';
import { imapMailboxFor } from './imap-mailbox.ts';
import { maildirPop3Mailbox } from './pop3-mailbox.ts';
import { ERR_PROTOCOL_UNAVAILABLE } from './errors.ts';

/** What the protocols and policies share, built once from the config. */
export interface Services {
  readonly events: SecurityEventSink;
  /** Before the greeting, on the real client: bans first, then the connection rate. */
  admitFor(listenerId: string): (info: ConnectionInfo) => Promise<Verdict>;
  handlerFor(id: string, listener: ListenerConfig, proxy: EffectiveProxy): Promise<ConnectionHandler>;
  close(): Promise<void>;
}


export async function createServices(config: Config, logger: Logger, dataDir: string): Promise<Services> {
  const store = new MaildirStore({ dataDir, hostname: config.server.hostname });
  const accounts = new Accounts(Object.fromEntries(Object.entries(config.mail.accounts).map(([address, a]) => [address, a.password])));
  const mailAuth = new MailAuthenticator({
    hostname: config.server.hostname,
    policy: {
      spf: config['mail-auth'].spf.verify,
      dkim: config['mail-auth'].dkim.verify,
      dmarc: config['mail-auth'].dmarc.verify,
    },
    ...(config.resolver.nameservers ? { nameservers: config.resolver.nameservers } : {}),
  });
  const redis = openRedis(config);
  const banStore = openBanStore(config, dataDir, redis);
  const autoBan = createAutoBan(config, banStore, logger);
  const rateLimits = new RateLimitRegistry(config, redis);
  const httpApps: HttpApp[] = [];
  const mailbox = maildirMailboxAccess(store);

  // Failed logins count per client IP and per account on the limiter of the listener they came in on.
  // Only accounts that exist are counted: made-up names would each grow the limiter's key space.
  // A report never throws (the sink's contract), also while the limiters shut down.
  const countFailedLogin = (info: ConnectionInfo, account: string | undefined) => {
    const limits = rateLimits.for(info.listener);
    const known = account === undefined ? undefined : accounts.canonical(account);
    const counted = [limits.check(info, 'auth-failure'), ...(known ? [limits.consume('auth-failure', accountKey(known))] : [])];
    Promise.all(counted).catch((error: unknown) => logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'failed login not counted'));
  };
  const events: SecurityEventSink = {
    report(event) {
      const c = event.connection;
      logger.info({ event: event.kind, reason: event.reason, conn: c.id, listener: c.listener, client: c.client.address, peer: c.peer.address }, 'security event');
      autoBan.report(event);
      if (event.kind === 'auth-failure') countFailedLogin(event.connection, event.account);
    },
  };

  return {
    events,
    admitFor(listenerId) {
      const limits = rateLimits.for(listenerId);
      return async (info) => {
        const ban = await autoBan.admit(info);
        if (ban.kind !== 'allow') return ban;
        return limits.check(info, 'connection');
      };
    },
    async handlerFor(id, listener, proxy) {
      const limits = rateLimits.for(id);
      // What SMTP, POP3 and IMAP share: the hostname, and what their logins need (@portico/core
      // checkLogin): accounts, security events, failed-login limits.
      const login = {
        hostname: config.server.hostname,
        accounts,
        events,
        admitLogin: (info: ConnectionInfo, account: string) => admitLogin(limits, info, account),
      };
      switch (listener.protocol) {
        case 'smtp':
        case 'submission': {
          const options = {
            ...login,
            mode: listener.protocol,
            domains: config.mail.domains,
            ...(config.mail.postmaster ? { postmaster: config.mail.postmaster } : {}),
            deliver: (address: string, message: Buffer) => store.deliver(address, message),
            mailAuth,
            admitMessage: async (info: ConnectionInfo, sender: string) => {
              const perIp = await limits.check(info, 'message');
              // On submission the sender is the authenticated account (checked before this hook).
              if (perIp.kind !== 'allow' || listener.protocol !== 'submission') return perIp;
              return limits.consume('message', accountKey(sender));
            },
          } as const;
          return (conn) => handleSmtpSession(conn, options);
        }
        case 'http': {
          const app = await createHttpApp({
            publicUrl: config.server['public-url'],
            resolveClient:
              proxy.mode === 'x-forwarded-for' ? forwardedResolver(proxy.trustedNetworks, { header: proxy.forwardedHeader }) : (info: ConnectionInfo) => ({ info }),
            routes: Object.entries(config.http.routes).map(([prefix, route]) => ({ prefix, upstream: route.upstream })),
            logger,
            events,
            scanPaths: config.server['auto-ban'].scan.paths,
            admitRequest: (info: ConnectionInfo) => limits.check(info, 'http-request'),
            mail: {
              accounts,
              mailbox,
              admitAccount: async (info: ConnectionInfo, account: string, stage: 'login' | 'request') =>
                stage === 'login' ? admitLogin(limits, info, account) : limits.consume('http-request', accountKey(account)),
            },
            discovery: { hostname: config.server.hostname, domains: [...config.mail.domains], services: publicServices(config) },
          });
          httpApps.push(app);
          return (conn) => app.onConnection(conn);
        }
        case 'pop3': {
          const options = { ...login, mailbox: maildirPop3Mailbox(store) };
          return (conn) => handlePop3Session(conn, options);
        }
        case 'imap': {
          const options = { ...login, mailbox: imapMailboxFor(store) };
          return (conn) => handleImapSession(conn, options);
        }
        default:
          throw ERR_PROTOCOL_UNAVAILABLE(id, listener.protocol);
      }
    },
    async close() {
      await Promise.all(httpApps.map((app) => app.close()));
      await autoBan.close();
      await rateLimits.close();
      await banStore.close();
      redis?.disconnect();
    },
  };
}

/** The mail listeners clients are told about: `public = true` or a `public-port` (the port the proxy maps). */
export function publicServices(config: Config): DiscoveryService[] {
  const services: DiscoveryService[] = [];
  for (const listener of Object.values(config.server.listener)) {
    if (listener.protocol === 'http' || !(listener.public || listener['public-port'] !== undefined)) continue;
    const port = listener['public-port'] ?? parseBindAddress(listener.bind[0]!)!.port;
    // A proxy that terminates TLS for this listener does so from the first byte: implicit TLS for clients.
    const implicit = listener.tls.implicit || listener.tls['terminated-by-proxy'];
    services.push({ protocol: listener.protocol, port, tls: implicit ? 'implicit' : 'starttls' });
  }
  return services;
}

/** Rate-limit keys for accounts, apart from client IPs. */
function accountKey(address: string): string {
  return `account:${address.trim().toLowerCase()}`;
}

/** Before a password is checked: refused while the client IP or the account is over its failed-login limit. */
async function admitLogin(limits: RateLimits, info: ConnectionInfo, account: string): Promise<Verdict> {
  const perIp = await limits.peek('auth-failure', info.client.address);
  return perIp.kind !== 'allow' ? perIp : limits.peek('auth-failure', accountKey(account));
}
