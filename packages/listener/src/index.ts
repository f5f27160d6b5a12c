export { startListener } from './listener.ts';
export type { ListenerOptions, RunningListener, BoundAddress, ProxyMode } from './options.ts';
export { parseBindAddress, formatHostPort } from './bind-address.ts';
export type { BindAddress } from './bind-address.ts';
export { tlsStateFromProxy } from './tls-state.ts';
export * as errors from './errors.ts';
export { resolveForwardedClient, applyForwardedResolution, forwardedResolver } from './forwarded.ts';
export type { ForwardedResolution, ForwardedOptions } from './forwarded.ts';
export { ProxyHeaderReader, detectProxyHeader, crc32c } from './proxy-protocol/index.ts';
export type { ProxyHeader, ProxyTlvs, ProxyAddress, SslTlv, ReaderStep } from './proxy-protocol/index.ts';
export { LineReader } from './line-reader.ts';
export type { LineEvent } from './line-reader.ts';
export { LineSession } from './line-session.ts';
export type { LineSessionSettings } from './line-session.ts';
// Test support for the protocol packages' wire tests (never used by production code).
export { makeTestCertificate, startTestServer, startProtocolTestServer, connectTestSocket, TestClient } from './testing.ts';
export type { TestCertificate, TestServer, ProtocolTestOptions } from './testing.ts';
