/**
 * What a policy answers. Each protocol maps a verdict to its wire reply in one place.
 * `reason` is a stable code (for logs and metrics); `message` is for humans.
 */
export type Verdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'delay'; readonly ms: number; readonly reason: string; readonly message?: string }
  | {
      readonly kind: 'refuse';
      readonly reason: string;
      readonly message: string;
      /** True when trying again later may succeed (4xx in SMTP, 429 in HTTP). */
      readonly temporary: boolean;
      /** Seconds until a retry may succeed, when known. */
      readonly retryAfter?: number;
    };

export const ALLOW: Verdict = Object.freeze({ kind: 'allow' });

export function refuse(reason: string, message: string, temporary: boolean, retryAfter?: number): Verdict {
  return Object.freeze({ kind: 'refuse', reason, message, temporary, ...(retryAfter === undefined ? {} : { retryAfter }) });
}
