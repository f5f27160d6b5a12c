import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import selfsigned from 'selfsigned';
import type { Config } from '@portico/config';
import { ERR_TLS_FILE, ERR_TLS_PAIR } from './errors.ts';

function read(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw ERR_TLS_FILE(key, path, code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
}

/**
 * The certificate for implicit TLS and STARTTLS: the configured PEM files, or a self-signed one for
 * server.hostname kept in <data-dir>/tls/ (made once, so clients that pinned it keep working).
 */
export async function loadSecureContext(config: Config, baseDir: string): Promise<SecureContext> {
  let cert: string;
  let key: string;
  const configured = config.server.tls;
  if (configured.certificate && configured['private-key']) {
    cert = read('certificate', resolve(baseDir, configured.certificate));
    key = read('private-key', resolve(baseDir, configured['private-key']));
  } else {
    const dir = join(resolve(baseDir, config.server['data-dir']), 'tls');
    const certPath = join(dir, 'self-signed.crt');
    const keyPath = join(dir, 'self-signed.key');
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      const pems = selfsigned.generate([{ name: 'commonName', value: config.server.hostname }], {
        keySize: 2048,
        days: 825,
        algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: config.server.hostname }] }],
      });
      mkdirSync(dir, { recursive: true });
      writeFileSync(keyPath, pems.private, { mode: 0o600 });
      writeFileSync(certPath, pems.cert);
    }
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
  }
  try {
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (error) {
    throw ERR_TLS_PAIR((error as Error).message);
  }
}
