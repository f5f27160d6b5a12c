import { CORE } from '../context.ts';
import type { MethodSpec } from '../dispatch.ts';

/** Core/echo (RFC 8620 section 4): answers its arguments. */
export const coreMethods: Record<string, MethodSpec> = {
  'Core/echo': { capability: CORE, run: (args) => args },
};
