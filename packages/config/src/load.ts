import { readFileSync } from 'node:fs';
import toml from 'toml';
import type { z } from 'zod';
import { configSchema } from './schema.ts';
import type { ParsedConfig } from './schema.ts';
import { locateKey } from './locate.ts';
import { closest } from './suggest.ts';
import { formatKeyPath } from './issues.ts';
import type { ConfigProblem } from './issues.ts';
import { crossCheck } from './cross-check.ts';
import { ERR_CONFIG_READ } from './errors.ts';

export interface Config extends ParsedConfig {
  /** The file this config came from (for messages and for resolving relative paths). */
  readonly source: string;
}

export type LoadResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Known keys of the object schema at `path`, for "did you mean". Walks zod's definitions. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.core.$ZodType | undefined = configSchema;
  const unwrap = (s: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    let current = s;
    for (let i = 0; i < 10 && current; i++) {
      const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
      if (def.innerType) current = def.innerType;
      else if (def.type === 'pipe' && def.in) current = def.in;
      else break;
    }
    return current;
  };
  for (const part of path) {
    schema = unwrap(schema);
    const def = schema?._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType } | undefined;
    if (!def) return [];
    if (def.type === 'object') schema = def.shape?.[String(part)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  const def = unwrap(schema)?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Parses and validates TOML text; every problem at once, each with file, line, key and expectation. */
export function parseConfig(text: string, file: string): LoadResult {
  let raw: unknown;
  try {
    raw = toml.parse(text);
  } catch (error) {
    const e = error as { message?: string; location?: { start?: { line?: number; column?: number } } };
    const start = e.location?.start;
    return {
      ok: false,
      problems: [
        {
          file,
          ...(start?.line ? { line: start.line } : {}),
          ...(start?.column ? { column: start.column } : {}),
          key: '',
          message: `TOML syntax error: ${e.message ?? String(error)}`,
        },
      ],
    };
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  const problems: ConfigProblem[] = [];
  const at = (path: readonly PropertyKey[], message: string) => {
    const keyPath = path.map((p) => (typeof p === 'number' ? p : String(p)));
    const line = locateKey(text, keyPath);
    problems.push({ file, ...(line ? { line } : {}), key: formatKeyPath(path), message });
  };
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeysAt(issue.path);
        for (const key of issue.keys) {
          const suggestion = closest(key, known);
          at([...issue.path, key], `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : `; expected one of: ${known.join(', ')}`}`);
        }
      } else {
        at(issue.path, describeIssue(issue));
      }
    }
    return { ok: false, problems };
  }
  for (const problem of crossCheck(result.data)) at(problem.path, problem.message);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: deepFreeze({ ...result.data, source: file }) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const received = (issue as { input?: unknown }).input;
    if (received === undefined) return `is required (expected ${issue.expected})`;
    return `expected ${issue.expected}, found ${JSON.stringify(received)}`;
  }
  if (issue.code === 'invalid_value') {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${JSON.stringify((issue as { input?: unknown }).input)}`;
  }
  return issue.message;
}

export function loadConfig(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { ok: false, problems: [{ file, key: '', message: ERR_CONFIG_READ(file, reason).message.slice(file.length + 2) }] };
  }
  return parseConfig(text, file);
}
