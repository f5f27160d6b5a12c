import { z } from 'zod';
import { DURATION_HINT, RATE_HINT, parseDuration, parseNetwork, parseRate, canonicalAddress } from '@portico/core';

/** Reusable field schemas; every message says what was found and what is expected. */

export const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not ${DURATION_HINT}` });
    return z.NEVER;
  }
  return ms;
});

export const rate = z.string().transform((text, ctx) => {
  const parsed = parseRate(text);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not ${RATE_HINT}` });
    return z.NEVER;
  }
  return parsed;
});

export const network = z.string().superRefine((text, ctx) => {
  const parsed = parseNetwork(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not an IP network (${parsed.reason})` });
});

const BIND = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/;
export const bindAddress = z.string().superRefine((text, ctx) => {
  const m = BIND.exec(text);
  const host = m ? canonicalAddress(m[1] ?? m[2]!) : undefined;
  const port = m ? Number(m[3]) : NaN;
  if (!m || !host || port > 65535 || (m[1] !== undefined) !== host.includes(':')) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not "address:port" (IPv6 as "[::1]:2525", port 0-65535)` });
  }
});

export const hostPort = z.string().superRefine((text, ctx) => {
  const m = BIND.exec(text);
  if (!m || !canonicalAddress(m[1] ?? m[2]!) || Number(m[3]) > 65535) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not "address:port" such as "127.0.0.1:5353"` });
  }
});

export const httpUrl = z.string().superRefine((text, ctx) => {
  let ok = false;
  try {
    const url = new URL(text);
    ok = url.protocol === 'http:' || url.protocol === 'https:';
  } catch {}
  if (!ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not an http:// or https:// URL` });
});

/** Password hashes made by `portico hash-password` (scrypt) or argon2 tools. */
const PASSWORD_HASH = /^\$(scrypt|argon2id|argon2i|argon2d)\$\S+$/;
export const passwordHash = z.string().superRefine((text, ctx) => {
  if (!PASSWORD_HASH.test(text)) {
    ctx.addIssue({
      code: 'custom',
      message: 'is not a password hash: plaintext passwords are refused; run `npx portico hash-password` and paste its output ("$scrypt$...")',
    });
  }
});

export const port = z.number().int().min(1).max(65535);
export const positiveInt = z.number().int().min(1);
