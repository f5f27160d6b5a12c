import { outgoing, plausibleAddress, xmlEscape } from './types.ts';
import type { DiscoveryOptions, DiscoveryService } from './types.ts';

/**
 * Microsoft autodiscover (POX, "outlook" response schema 2006a), POST /autodiscover/autodiscover.xml.
 * The request's <EMailAddress> only becomes the login name; servers and ports come from the config.
 */

const RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

/** The <EMailAddress> of an autodiscover request (no XML parser needed for one element). */
export function requestedAddress(body: string): string | undefined {
  const m = /<(?:[A-Za-z0-9_-]+:)?EMailAddress\s*>([^<]{1,320})<\/(?:[A-Za-z0-9_-]+:)?EMailAddress\s*>/i.exec(body);
  return m ? plausibleAddress(m[1]!.replace(/&amp;/g, '&')) : undefined;
}

function protocol(type: string, hostname: string, s: DiscoveryService, login: string | undefined): string {
  return [
    '      <Protocol>',
    `        <Type>${type}</Type>`,
    `        <Server>${xmlEscape(hostname)}</Server>`,
    `        <Port>${s.port}</Port>`,
    ...(login ? [`        <LoginName>${xmlEscape(login)}</LoginName>`] : []),
    '        <DomainRequired>off</DomainRequired>',
    '        <SPA>off</SPA>',
    `        <SSL>on</SSL>`,
    `        <Encryption>${s.tls === 'implicit' ? 'SSL' : 'TLS'}</Encryption>`,
    '        <AuthRequired>on</AuthRequired>',
    '      </Protocol>',
  ].join('\n');
}

export function autodiscoverXml(options: DiscoveryOptions, login: string | undefined): string {
  const services = [
    ...options.services.filter((s) => s.protocol === 'imap').map((s) => protocol('IMAP', options.hostname, s, login)),
    ...options.services.filter((s) => s.protocol === 'pop3').map((s) => protocol('POP3', options.hostname, s, login)),
    ...outgoing(options.services).map((s) => protocol('SMTP', options.hostname, s, login)),
  ];
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">',
    `  <Response xmlns="${RESPONSE_SCHEMA}">`,
    '    <Account>',
    '      <AccountType>email</AccountType>',
    '      <Action>settings</Action>',
    ...services,
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}
