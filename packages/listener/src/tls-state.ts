import type { TLSSocket } from 'node:tls';
import type { TlsState } from '@portico/core';
import type { ProxyHeader } from './proxy-protocol/index.ts';

/** TLS we terminated ourselves. */
export function tlsStateOfSocket(socket: TLSSocket): TlsState {
  const cipher = socket.getCipher();
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  const peerCert = socket.getPeerCertificate();
  const hasClientCert = peerCert !== null && typeof peerCert === 'object' && Object.keys(peerCert).length > 0;
  return {
    terminatedBy: 'server',
    ...(socket.getProtocol() ? { version: socket.getProtocol()! } : {}),
    ...(cipher?.name ? { cipher: cipher.standardName ?? cipher.name } : {}),
    ...(servername ? { sni: servername } : {}),
    ...(hasClientCert ? { clientCertVerified: socket.authorized } : {}),
  };
}

const SSL_CLIENT_SSL = 0x01;
const SSL_CLIENT_CERT_CONN = 0x02;
const SSL_CLIENT_CERT_SESS = 0x04;

/**
 * TLS a trusted proxy terminated: the PROXY v2 SSL TLV says so (client flag SSL), or the listener
 * declares it (`tls.terminated-by-proxy`) for proxies that send no TLVs. Never anything else.
 */
export function tlsStateFromProxy(header: ProxyHeader | undefined, declaredByListener: boolean): TlsState | null {
  const ssl = header?.tlvs.ssl;
  if (ssl && (ssl.client & SSL_CLIENT_SSL) !== 0) {
    const presentedCert = (ssl.client & (SSL_CLIENT_CERT_CONN | SSL_CLIENT_CERT_SESS)) !== 0;
    return {
      terminatedBy: 'proxy',
      ...(ssl.version ? { version: ssl.version } : {}),
      ...(ssl.cipher ? { cipher: ssl.cipher } : {}),
      ...(header?.tlvs.authority ? { sni: header.tlvs.authority } : {}),
      ...(presentedCert ? { clientCertVerified: ssl.verify === 0 } : {}),
      ...(presentedCert && ssl.cn ? { clientCertCn: ssl.cn } : {}),
    };
  }
  if (declaredByListener) {
    return { terminatedBy: 'proxy', ...(header?.tlvs.authority ? { sni: header.tlvs.authority } : {}) };
  }
  return null;
}
