import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed by `remove()` or when the process exits. */
export function makeTempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `portico-${prefix}-`));
  dirs.add(path);
  return {
    path,
    remove() {
      dirs.delete(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
