// The README's repository map is where a newcomer looks first: it names every top-level folder and every
// workspace package, a row that lays out a package's src/ names each of its folders, and the file each image runs
// is named in its package's row, so a folder or a process added without a line there fails here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/paths.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const map = readme.slice(readme.indexOf('## Repository map'));
/** The paths the map's rows name in their first cell: `a`, `b`, `c` -> a, b, c. */
const rows = map.split('\n').filter((line) => line.startsWith('| `'));
const pathsIn = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/\/$/, ''));
const named = new Set(rows.flatMap((line) => pathsIn(line.split('|')[1])));

const isDir = (path: string) => statSync(join(repoRoot, path)).isDirectory();
/** Not the project's: installs, builds and local data (.gitignore), and dot folders (CI, git). */
const NOT_OURS = new Set(['node_modules', 'dist', 'coverage']);

describe("the README's repository map", () => {
  it('when a folder is at the top of the repository, then the map names it or a folder in it', () => {
    const top = readdirSync(repoRoot).filter((name) => !name.startsWith('.') && !NOT_OURS.has(name) && isDir(name));
    assert.ok(top.includes('services') && top.includes('packages'), `not the repository root? ${top.join(', ')}`);
    const missing = top.filter((dir) => !named.has(dir) && ![...named].some((path) => path.startsWith(`${dir}/`)));
    assert.deepEqual(missing, []);
  });

  it('when a folder is a workspace (package.json workspaces), then the map names it', () => {
    const { workspaces } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
    const folders = workspaces.flatMap((pattern) =>
      pattern.endsWith('/*')
        ? readdirSync(join(repoRoot, pattern.slice(0, -2))).map((name) => `${pattern.slice(0, -2)}/${name}`).filter(isDir)
        : [pattern],
    );
    assert.ok(folders.length >= 8, `only ${folders.length} workspaces`);
    assert.deepEqual(folders.filter((folder) => !named.has(folder)), []);
  });

  it('when a row lays out src/, then it names every folder in the src/ of the packages it is about, and each folder or file it names exists', () => {
    const wrong: string[] = [];
    let laidOut = 0;
    for (const line of rows) {
      const [, first, what] = line.split('|');
      // `src/routes/<audience>/` is the folder src/routes.
      const inSrc = new Set(pathsIn(what).filter((p) => p.startsWith('src/') && !/\.\w+$/.test(p)).map((p) => p.replace(/\/<[^>]+>$/, '')));
      if (inSrc.size === 0) continue;
      const packages = pathsIn(first);
      laidOut += packages.length;
      const folders = packages.flatMap((pkg) =>
        readdirSync(join(repoRoot, pkg, 'src'))
          .filter((name) => isDir(join(pkg, 'src', name)))
          .map((name) => ({ pkg, path: `src/${name}` })),
      );
      for (const { pkg, path } of folders) if (!inSrc.has(path)) wrong.push(`${pkg}/${path} is not in its row`);
      for (const path of inSrc) if (!folders.some((f) => f.path === path)) wrong.push(`${path} (row of ${packages.join(', ')}) is in none of them`);
      const files = pathsIn(what).filter((p) => p.startsWith('src/') && /\.\w+$/.test(p));
      for (const file of files) if (!packages.some((pkg) => existsSync(join(repoRoot, pkg, file)))) wrong.push(`${file} (row of ${packages.join(', ')}) is in none of them`);
    }
    assert.ok(laidOut >= 5, `only ${laidOut} packages laid out`);
    assert.deepEqual(wrong, []);
  });

  it('when an image runs a file (deploy/docker/Dockerfile CMD), then the row of its package names that file', () => {
    const dockerfile = readFileSync(join(repoRoot, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const runs = [...dockerfile.matchAll(/^CMD \["node", "([\w/-]+)\/dist\/(src\/[\w-]+)\.js"\]/gm)].map((m) => ({ pkg: m[1] ?? '', file: `${m[2]}.ts` }));
    assert.ok(runs.length >= 5, `only ${runs.length} CMD lines read`);
    const unnamed = runs.filter(({ pkg, file }) => {
      const row = rows.find((line) => pathsIn(line.split('|')[1]).includes(pkg));
      return !row || !pathsIn(row.split('|')[2]).includes(file);
    });
    assert.deepEqual(unnamed.map(({ pkg, file }) => `${pkg}/${file}`), []);
  });
});
