import type { ProtocolGreetingErrors } from '@portico/core';

/** What the listener sends, in SMTP words, when it refuses a connection before the session starts. */
export function smtpGreetingErrors(hostname: string): ProtocolGreetingErrors {
  return {
    proxyTimeout: `421 4.4.2 ${hostname} PROXY header timed out\r\n`,
    proxyRefused: `421 4.7.0 ${hostname} PROXY header refused\r\n`,
    tooManyConnections: `421 4.7.0 ${hostname} too many connections, try again later\r\n`,
    refused: (message: string) => `421 4.7.0 ${hostname} ${message.replace(/[\r\n]+/g, ' ')}\r\n`,
  };
}
