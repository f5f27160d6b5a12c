import { domainFor, outgoing, plausibleAddress, xmlEscape } from './types.ts';
import type { DiscoveryOptions, DiscoveryService } from './types.ts';

/**
 * Thunderbird autoconfig (config-v1.1.xml, https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat),
 * served at /.well-known/autoconfig/mail/config-v1.1.xml and /mail/config-v1.1.xml.
 */

function server(kind: 'incomingServer' | 'outgoingServer', type: string, hostname: string, s: DiscoveryService): string {
  return [
    `    <${kind} type="${xmlEscape(type)}">`,
    `      <hostname>${xmlEscape(hostname)}</hostname>`,
    `      <port>${s.port}</port>`,
    `      <socketType>${s.tls === 'implicit' ? 'SSL' : 'STARTTLS'}</socketType>`,
    '      <username>%EMAILADDRESS%</username>',
    '      <authentication>password-cleartext</authentication>',
    `    </${kind}>`,
  ].join('\n');
}

export function autoconfigXml(options: DiscoveryOptions, emailAddress: string | undefined): string {
  const domain = domainFor(options, plausibleAddress(emailAddress));
  const incoming = [...options.services.filter((s) => s.protocol === 'imap'), ...options.services.filter((s) => s.protocol === 'pop3')];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xmlEscape(domain)}">`,
    ...options.domains.map((d) => `    <domain>${xmlEscape(d)}</domain>`),
    `    <displayName>${xmlEscape(domain)}</displayName>`,
    `    <displayShortName>${xmlEscape(domain)}</displayShortName>`,
    ...incoming.map((s) => server('incomingServer', s.protocol, options.hostname, s)),
    ...outgoing(options.services).map((s) => server('outgoingServer', 'smtp', options.hostname, s)),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
