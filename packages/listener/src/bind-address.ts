import { canonicalAddress } from '@portico/core';

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

/** "127.0.0.1:2525" or "[::1]:2525"; undefined when malformed. */
export function parseBindAddress(text: string): BindAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(0|[1-9]\d{0,4})$/.exec(text);
  if (!m) return undefined;
  const host = canonicalAddress(m[1] ?? m[2]!);
  const port = Number(m[3]);
  if (!host || port > 65535) return undefined;
  if ((m[1] !== undefined) !== host.includes(':')) return undefined;
  return { host, port };
}

export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
