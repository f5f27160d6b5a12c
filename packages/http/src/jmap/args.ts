import { invalidArguments } from './errors.ts';

/** Argument checks shared by the methods; each throws invalidArguments naming the argument. */

export function optionalStrings(args: Record<string, unknown>, name: string): string[] | null {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidArguments(`${name} must be null or an array of strings`);
  return value as string[];
}

export function optionalBoolean(args: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidArguments(`${name} must be a boolean`);
  return value;
}

export function optionalInt(args: Record<string, unknown>, name: string, fallback: number | undefined, min = 0): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw invalidArguments(`${name} must be an integer >= ${min}`);
  return value;
}

export function optionalString(args: Record<string, unknown>, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArguments(`${name} must be a string`);
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
