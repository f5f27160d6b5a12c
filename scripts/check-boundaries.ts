// Fails when a package imports a sibling @portico/* package it does not declare in its package.json,
// or when a protocol or policy package imports another protocol or policy (only `server` wires them).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../packages/', import.meta.url).pathname;
const WIRED_ONLY_BY_SERVER = new Set(['smtp', 'imap', 'pop3', 'http', 'mailauth', 'ratelimit', 'autoban']);
const problems: string[] = [];

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

for (const pkg of readdirSync(root)) {
  const manifestPath = join(root, pkg, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies?: Record<string, string> };
  const declared = new Set(Object.keys(manifest.dependencies ?? {}));
  for (const file of sourceFiles(join(root, pkg, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+['"](@portico\/[a-z0-9-]+)|import\(\s*['"](@portico\/[a-z0-9-]+)/g)) {
      const target = (m[1] ?? m[2])!;
      const sibling = target.slice('@portico/'.length);
      if (sibling === pkg) continue;
      const where = file.slice(root.length);
      if (!declared.has(target)) problems.push(`${where}: imports ${target} but packages/${pkg}/package.json does not declare it`);
      if (WIRED_ONLY_BY_SERVER.has(pkg) && WIRED_ONLY_BY_SERVER.has(sibling)) {
        problems.push(`${where}: ${pkg} imports ${target}; protocols and policies never import each other (only server wires them)`);
      }
    }
    for (const m of text.matchAll(/from\s+['"](\.\.\/){2,}(?:\.\.\/)*([a-z0-9-]+)\/src/g)) {
      problems.push(`${file.slice(root.length)}: reaches into packages/${m[2]} by relative path; import @portico/${m[2]}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`package boundaries: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('package boundaries: ok');
