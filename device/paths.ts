import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's root: the nearest folder above this file that holds `package.json`. Computed rather than
 * `import.meta.dirname + '../..'` because the same module runs from source (tsx) and from the device build in
 * `dist/`, one level deeper; data that is not code (migrations, the companion page, the toolchain, the sample)
 * stays where the repository keeps it.
 */
export const REPO_ROOT = findRoot(import.meta.dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: is the repository complete?`);
  }
}
