import { z } from 'zod';
import { bindAddress, duration, hostPort, httpUrl, network, passwordHash, port, positiveInt, rate } from './fields.ts';

/** The whole config file. Key names are the contract of shared/ARCHITECTURE.md. */

export const PROTOCOLS = ['smtp', 'submission', 'imap', 'pop3', 'http'] as const;
export const PROXY_MODES = ['proxy-protocol', 'x-forwarded-for', 'none'] as const;
export const FORWARDED_HEADERS = ['x-forwarded-for', 'forwarded'] as const;
const VERIFY_MODES = ['relaxed', 'strict', 'disable'] as const;

const rateLimits = z.strictObject({
  connection: rate.optional(),
  'auth-failure': rate.optional(),
  message: rate.optional(),
  'http-request': rate.optional(),
});

const listener = z.strictObject({
  protocol: z.enum(PROTOCOLS),
  bind: z.array(bindAddress).min(1),
  tls: z
    .strictObject({
      implicit: z.boolean().default(false),
      'terminated-by-proxy': z.boolean().default(false),
    })
    .prefault({}),
  proxy: z
    .strictObject({
      mode: z.enum(PROXY_MODES).optional(),
      'trusted-networks': z.array(network).optional(),
      timeout: duration.optional(),
      'forwarded-header': z.enum(FORWARDED_HEADERS).optional(),
    })
    .prefault({}),
  'max-connections': positiveInt.default(10_000),
  'max-connections-per-ip': positiveInt.default(50),
  public: z.boolean().default(false),
  'public-port': port.optional(),
  'rate-limit': rateLimits.optional(),
});

const verify = z.strictObject({ verify: z.enum(VERIFY_MODES).default('relaxed') }).prefault({});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      hostname: z.string().min(1).default('localhost'),
      'data-dir': z.string().min(1).default('data'),
      'public-url': httpUrl.default('http://localhost:8080'),
      'shutdown-timeout': duration.default(10_000),
      proxy: z
        .strictObject({
          'trusted-networks': z.array(network).default([]),
          timeout: duration.default(5_000),
        })
        .prefault({}),
      tls: z
        .strictObject({
          certificate: z.string().min(1).optional(),
          'private-key': z.string().min(1).optional(),
        })
        .prefault({}),
      listener: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'listener ids are letters, digits, "-" and "_"'), listener).default({}),
      'rate-limit': rateLimits.prefault({}),
      'auto-ban': z
        .strictObject({
          auth: z.strictObject({ rate: rate.optional() }).prefault({}),
          scan: z.strictObject({ rate: rate.optional(), paths: z.array(z.string().startsWith('/')).default([]) }).prefault({}),
          loiter: z.strictObject({ rate: rate.optional() }).prefault({}),
          duration: duration.default(86_400_000),
          'allowed-ips': z.array(network).default([]),
        })
        .prefault({}),
    })
    .prefault({}),
  http: z
    .strictObject({
      routes: z.record(z.string().startsWith('/'), z.strictObject({ upstream: httpUrl })).default({}),
    })
    .prefault({}),
  resolver: z.strictObject({ nameservers: z.array(hostPort).min(1).optional() }).prefault({}),
  mail: z
    .strictObject({
      domains: z.array(z.string().min(1)).default([]),
      accounts: z.record(z.email(), z.strictObject({ password: passwordHash })).default({}),
      postmaster: z.email().optional(),
    })
    .prefault({}),
  'mail-auth': z
    .strictObject({ spf: verify, dkim: verify, dmarc: verify })
    .prefault({}),
  store: z
    .strictObject({
      backend: z.enum(['sqlite', 'redis']).default('sqlite'),
      url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').optional(),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ListenerConfig = ParsedConfig['server']['listener'][string];
export type Protocol = (typeof PROTOCOLS)[number];
export type ProxyModeSetting = (typeof PROXY_MODES)[number];
