/**
 * Finds the line of a key path in TOML text, so errors can say `config.toml:14`. A small scanner
 * over table headers and (dotted) keys: good for the configs people write, and when it cannot find
 * a key the error simply has no line.
 */

function splitKey(text: string): string[] {
  const parts: string[] = [];
  for (const m of text.matchAll(/\s*("((?:[^"\\]|\\.)*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*(?:\.|$)/g)) {
    parts.push(m[2] ?? m[3] ?? m[1]!);
  }
  return parts;
}

const TABLE = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const KEY = /^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=/;

/** 1-based line of `path` (e.g. ['server','listener','smtp','proxy','trusted-networks', 1]), or undefined. */
export function locateKey(text: string, path: readonly (string | number)[]): number | undefined {
  const lines = text.split(/\r?\n/);
  const keys = path.filter((p): p is string => typeof p === 'string');
  const index = path.find((p): p is number => typeof p === 'number');
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const tableMatch = TABLE.exec(line);
    let full: string[] | undefined;
    if (tableMatch) {
      table = splitKey(tableMatch[1]!);
      full = table;
    } else {
      const keyMatch = KEY.exec(line);
      if (keyMatch) full = [...table, ...splitKey(keyMatch[1]!)];
    }
    if (!full || full.length > keys.length) continue;
    if (!full.every((part, n) => part === keys[n])) continue;
    if (!best || full.length > best.depth) best = { line: i + 1, depth: full.length };
  }
  if (best && best.depth === keys.length && index !== undefined) {
    return locateArrayElement(lines, best.line - 1, index) ?? best.line;
  }
  return best?.line;
}

/** For `key = [a, b, c]` spread over lines, the line holding element `index`. */
function locateArrayElement(lines: string[], start: number, index: number): number | undefined {
  let seen = 0;
  let depth = 0;
  for (let i = start; i < lines.length && i < start + 200; i++) {
    const text = i === start ? lines[i]!.slice(lines[i]!.indexOf('=') + 1) : lines[i]!;
    for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|[\[\],]|#.*$/g)) {
      const token = m[0];
      if (token.startsWith('#')) break;
      if (token === '[') depth++;
      else if (token === ']') {
        depth--;
        if (depth === 0) return undefined;
      } else if (token === ',') continue;
      else if (depth === 1) {
        if (seen === index) return i + 1;
        seen++;
      }
    }
  }
  return undefined;
}
