import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { runCommand } from './processes.ts';
import { makeTempDir } from './temp.ts';

export interface TestCertificate {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate followed by key: what HAProxy's `crt` wants. */
  readonly combinedFile: string;
  readonly cert: string;
  readonly key: string;
  secureContext(): SecureContext;
  remove(): void;
}

/**
 * A self-signed certificate (P-256, one day) for localhost, mail.example.test and 127.0.0.1,
 * made with the openssl CLI in a temp dir.
 */
export async function makeSelfSignedCertificate(commonName = 'mail.example.test'): Promise<TestCertificate> {
  const temp = makeTempDir('cert');
  const certFile = join(temp.path, 'cert.pem');
  const keyFile = join(temp.path, 'key.pem');
  const combinedFile = join(temp.path, 'combined.pem');
  const result = await runCommand('openssl', [
    'req', '-x509', '-nodes', '-days', '1',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${commonName}`,
    '-addext', `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1`,
  ]);
  if (result.code !== 0) throw new Error(`openssl req failed (${result.code}): ${result.stderr}`);
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  writeFileSync(combinedFile, cert + key);
  return {
    dir: temp.path,
    certFile,
    keyFile,
    combinedFile,
    cert,
    key,
    secureContext: () => createSecureContext({ cert, key }),
    remove: temp.remove,
  };
}
