import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import { ERR_PASSWORD_HASH_FORMAT } from './errors.ts';

/**
 * Password hashes: `$scrypt$N=16384,r=8,p=1$<salt base64>$<hash base64>` (node:crypto scrypt).
 * The config refuses anything that is not such a hash (isPasswordHash), so no plaintext password
 * is ever kept in a config file.
 */

const DEFAULT = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const B64 = '[A-Za-z0-9+/]+={0,2}';
const HASH = new RegExp(`^\\$scrypt\\$N=(\\d{1,9}),r=(\\d{1,3}),p=(\\d{1,3})\\$(${B64})\\$(${B64})$`);

interface ParsedHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parse(text: string): ParsedHash | undefined {
  const m = HASH.exec(text);
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  // N a power of two > 1; bounded so a hostile config cannot make us allocate gigabytes.
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** True when the text is a well-formed `$scrypt$...` hash (never plaintext). */
export function isPasswordHash(text: string): boolean {
  return parse(text) !== undefined;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, KEY_LENGTH, scryptOptions(DEFAULT.N, DEFAULT.r, DEFAULT.p));
  return `$scrypt$N=${DEFAULT.N},r=${DEFAULT.r},p=${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison of the derived key. Throws PORTICO_ERR_STORE_PASSWORD_HASH_FORMAT on a malformed hash. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const parsed = parse(hash);
  if (!parsed) throw ERR_PASSWORD_HASH_FORMAT();
  const key = await derive(password, parsed.salt, parsed.hash.length, scryptOptions(parsed.N, parsed.r, parsed.p));
  return timingSafeEqual(key, parsed.hash);
}

let dummyHash: Promise<string> | undefined;

/**
 * Accounts from `[mail.accounts]` (address -> password hash). `verify` of an unknown address still
 * runs one scrypt, so response time does not tell which accounts exist.
 */
export class Accounts {
  readonly #hashes: ReadonlyMap<string, string>;

  constructor(hashes: Readonly<Record<string, string>> | ReadonlyMap<string, string>) {
    const entries = hashes instanceof Map ? [...hashes.entries()] : Object.entries(hashes);
    const map = new Map<string, string>();
    for (const [address, hash] of entries) {
      if (!isPasswordHash(hash)) throw ERR_PASSWORD_HASH_FORMAT();
      map.set(normalizeAddress(address), hash);
    }
    this.#hashes = map;
  }

  exists(address: string): boolean {
    return this.#hashes.has(normalizeAddress(address));
  }

  /** The canonical form of the account's address, or undefined. */
  canonical(address: string): string | undefined {
    const normal = normalizeAddress(address);
    return this.#hashes.has(normal) ? normal : undefined;
  }

  async verify(address: string, password: string): Promise<boolean> {
    const hash = this.#hashes.get(normalizeAddress(address));
    if (hash === undefined) {
      dummyHash ??= hashPassword('portico-no-such-account');
      await verifyPassword(await dummyHash, password);
      return false;
    }
    return verifyPassword(hash, password);
  }

  addresses(): string[] {
    return [...this.#hashes.keys()];
  }
}

/** Accounts are matched case-insensitively (lower-cased address). */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}
