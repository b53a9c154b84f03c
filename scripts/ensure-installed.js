// `npm start` and `npm test` on a fresh clone: installs the dependencies first (`npm ci`) when they are missing
// or older than package-lock.json, so each is one command on a new machine. Uses nothing but Node itself
// (it runs before anything is installed); a checkout that is installed and current costs two stat calls.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const mtime = (file) => {
  try {
    return statSync(join(root, file)).mtimeMs;
  } catch {
    return null;
  }
};

// npm writes node_modules/.package-lock.json at the end of every install: its absence means no (finished) install.
const installed = mtime('node_modules/.package-lock.json');
const lock = mtime('package-lock.json');
if (installed === null || (lock !== null && lock > installed)) {
  console.log(installed === null ? '[install] no dependencies yet: npm ci' : '[install] package-lock.json changed since the last install: npm ci');
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const result = spawnSync(npm[0], [...npm.slice(1), 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[install] npm ci failed (${result.error?.message ?? `exit ${result.status}`}); run it yourself to see why`);
    process.exit(result.status || 1);
  }
}
