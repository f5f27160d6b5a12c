/** Public types of the PROXY protocol v1/v2 parser. */

/** An endpoint carried by a PROXY header, in canonical text (IPv4 dotted quad, IPv6 lower-case compressed, ::ffff:a.b.c.d as a.b.c.d). */
export interface ProxyAddress {
  address: string;
  port: number;
}

/** PP2_TYPE_SSL (0x20). */
export interface SslTlv {
  /** PP2_CLIENT_* flags byte: 0x01 SSL, 0x02 certificate on this connection, 0x04 certificate in the session. */
  client: number;
  /** uint32, 0 = the client certificate was verified. */
  verify: number;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
}

export interface ProxyTlvs {
  alpn?: string;
  authority?: string;
  crc32c?: number;
  uniqueId?: Buffer;
  ssl?: SslTlv;
  netns?: string;
  /** 0xE0-0xEF (PP2_TYPE_MIN_CUSTOM..PP2_TYPE_MAX_CUSTOM), raw, in header order. */
  custom: { type: number; value: Buffer }[];
}

export interface ProxyHeader {
  version: 1 | 2;
  command: 'PROXY' | 'LOCAL';
  family: 'TCP4' | 'TCP6' | 'UDP4' | 'UDP6' | 'UNIX' | 'UNKNOWN' | 'UNSPEC';
  /** Present only for TCP4/TCP6 with the PROXY command; absent means: use the socket's addresses. */
  source?: ProxyAddress;
  destination?: ProxyAddress;
  tlvs: ProxyTlvs;
  /** Bytes consumed by the header. */
  length: number;
}

export type ReaderStep =
  | { state: 'incomplete' }
  | { state: 'done'; header: ProxyHeader; rest: Buffer }
  | { state: 'malformed'; reason: string; offset: number };

/** A refusal: `offset` counts from the first byte of the header. */
export type Malformed = { state: 'malformed'; reason: string; offset: number };

/** Result of parsing a complete (or partial, for v1) header held in one buffer starting at index 0. */
export type ParseResult = { state: 'incomplete' } | { state: 'done'; header: ProxyHeader } | Malformed;
