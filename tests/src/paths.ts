import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests/dist/src -> ../../..), where scripts/stack.js starts the platform. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Every file and folder below `dir` (a path from the repository root; '' the whole of it), as paths from the root, a
 * folder ending in '/'; a name `skip` accepts is left out with everything below it (installs, builds, local data).
 */
export function repoTree(dir: string, skip: (name: string) => boolean): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    if (skip(name)) return [];
    const path = dir ? `${dir}/${name}` : name;
    return statSync(join(repoRoot, path)).isDirectory() ? [`${path}/`, ...repoTree(path, skip)] : [path];
  });
}
