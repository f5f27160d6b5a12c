import { isIPv6 } from 'node:net';
import type { ConnectionInfo } from '@portico/core';

/**
 * The trace fields put on top of every stored message:
 *   Return-Path: <sender>
 *   Received: from <helo> (<rdns> [<client ip>])
 *           by <hostname> with ESMTPS (TLSv1.3, TLS_AES_256_GCM_SHA384)
 *           id <id> for <rcpt>; <date>
 * RFC 5321 4.4 (TCP-info is the real client address from ConnectionInfo.client, never the proxy's),
 * RFC 3848 (ESMTP / ESMTPS / ESMTPA / ESMTPSA), TLS state from ConnectionInfo.tls (also when a trusted
 * proxy terminated TLS).
 */
export interface TraceInput {
  readonly info: ConnectionInfo;
  readonly hostname: string;
  readonly helo: string;
  readonly esmtp: boolean;
  readonly authenticated: boolean;
  readonly reverseName?: string;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly id: string;
  readonly date?: Date;
}

export function protocolName(esmtp: boolean, tls: boolean, authenticated: boolean): string {
  if (!esmtp) return tls ? 'ESMTPS' : 'SMTP'; // HELO clients: RFC 3848 has no SMTPS; TLS needs EHLO anyway
  return `ESMTP${tls ? 'S' : ''}${authenticated ? 'A' : ''}`;
}

/** RFC 5322 date-time with a numeric zone. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** Anything a client sent that goes into a header: printable, no comment delimiters. */
function clean(text: string): string {
  return text.replace(/[^\x21-\x7e\u0080-\uffff]/g, '?').replace(/[()\\]/g, '?').slice(0, 255);
}

function addressLiteral(address: string): string {
  return isIPv6(address) ? `[IPv6:${address}]` : `[${address}]`;
}

function tlsComment(info: ConnectionInfo): string {
  const tls = info.tls;
  if (!tls) return '';
  const parts = [tls.version, tls.cipher].filter((p): p is string => typeof p === 'string' && p !== '').map(clean);
  if (tls.terminatedBy === 'proxy') parts.push('TLS terminated by proxy');
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

export function receivedHeader(input: TraceInput): string {
  const { info } = input;
  const tcpInfo = `${input.reverseName ? clean(input.reverseName) + ' ' : ''}${addressLiteral(info.client.address)}`;
  const protocol = protocolName(input.esmtp, info.tls !== null, input.authenticated);
  const forClause = input.recipients.length === 1 ? ` for <${clean(input.recipients[0]!)}>` : '';
  const date = rfc5322Date(input.date ?? new Date());
  return (
    `Received: from ${clean(input.helo)} (${tcpInfo})\r\n` +
    `\tby ${input.hostname} (Portico) with ${protocol}${tlsComment(info)}\r\n` +
    `\tid ${input.id}${forClause};\r\n` +
    `\t${date}\r\n`
  );
}

export function returnPathHeader(sender: string): string {
  return `Return-Path: <${clean(sender)}>\r\n`;
}
