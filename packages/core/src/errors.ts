/**
 * Base of every Portico error: a stable code (PORTICO_ERR_*) and a message, like fastify's FST_ERR_*.
 * Each package keeps its catalogue in src/errors.ts and documents it in its README.
 */
export class PorticoError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PorticoError';
    this.code = code;
  }
}

export type ErrorFactory<A extends unknown[]> = ((...args: A) => PorticoError) & { readonly code: string };

/** Declares one catalogue entry: `const E_X = defineError('PORTICO_ERR_X', (a: string) => \`...\`)`. */
export function defineError<A extends unknown[]>(code: string, message: (...args: A) => string): ErrorFactory<A> {
  const factory = (...args: A) => new PorticoError(code, message(...args));
  return Object.assign(factory, { code });
}
