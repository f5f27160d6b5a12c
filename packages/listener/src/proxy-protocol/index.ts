export { ProxyHeaderReader, detectProxyHeader } from './reader.ts';
export { crc32c } from './crc32c.ts';
export { V1_MAX_LENGTH } from './v1.ts';
export { V2_SIGNATURE } from './v2.ts';
export type { ProxyAddress, ProxyHeader, ProxyTlvs, ReaderStep, SslTlv } from './types.ts';
