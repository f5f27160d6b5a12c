import type { ProtocolGreetingErrors } from '@portico/core';
import type { Protocol } from '@portico/config';
import { smtpGreetingErrors } from '@portico/smtp';

/** Each protocol's words for what the listener refuses before the protocol itself speaks. */
export function greetingErrors(protocol: Protocol, hostname: string): ProtocolGreetingErrors {
  switch (protocol) {
    case 'smtp':
    case 'submission':
      return smtpGreetingErrors(hostname);
    case 'imap':
      return {
        proxyTimeout: '* BYE [UNAVAILABLE] PROXY protocol header not received in time\r\n',
        proxyRefused: '* BYE PROXY protocol header refused\r\n',
        tooManyConnections: '* BYE [UNAVAILABLE] Too many connections, try again later\r\n',
        refused: (message) => `* BYE ${message}\r\n`,
      };
    case 'pop3':
      return {
        proxyTimeout: '-ERR [SYS/TEMP] PROXY protocol header not received in time\r\n',
        proxyRefused: '-ERR PROXY protocol header refused\r\n',
        tooManyConnections: '-ERR [SYS/TEMP] Too many connections, try again later\r\n',
        refused: (message) => `-ERR ${message}\r\n`,
      };
    case 'http':
      return {
        proxyTimeout: httpReply(400, 'Bad Request', 'PROXY protocol header not received in time\n'),
        proxyRefused: httpReply(400, 'Bad Request', 'PROXY protocol header refused\n'),
        tooManyConnections: httpReply(503, 'Service Unavailable', 'Too many connections, try again later\n'),
        refused: (message) => httpReply(403, 'Forbidden', `${message}\n`),
      };
  }
}

function httpReply(status: number, reason: string, body: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
