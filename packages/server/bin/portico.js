#!/usr/bin/env node
// `npx portico ...`: runs the TypeScript CLI with the Node pinned by the project (type stripping
// needs Node >= 23.6; npx may start the machine's older node, so re-run with the pinned one).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli.ts');
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(cli);
} else {
  let dir = here;
  let pinned;
  while (dir !== dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', 'node');
    if (existsSync(candidate)) { pinned = candidate; break; }
    dir = dirname(dir);
  }
  if (!pinned) {
    console.error('portico: needs Node 24 (run `npm install` in the project to get the pinned one)');
    process.exit(1);
  }
  const result = spawnSync(pinned, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
