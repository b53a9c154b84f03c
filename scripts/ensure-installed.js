// `npm start` and `npm test` on a fresh clone: installs the dependencies first (`npm ci`) when they are missing
// or older than package-lock.json, so each is one command on a new machine. Uses nothing but Node itself
// (it runs before anything is installed); a checkout that is installed and current costs two stat calls.
// First it checks the running Node against package.json's engines.node, so an old Node is one clear line.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Not import.meta.dirname: Node before 20.11 lacks it, and must reach the version check below.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Whether `version` (major.minor.patch) is in `range`, for the forms package.json uses: alternatives joined by
 * `||`, each `^M.m.p` (same major, at least M.m.p) or `>=M[.m[.p]]`. Another form is not judged (true).
 */
function nodeSatisfies(version, range) {
  const v = version.split('.').map(Number);
  const atLeast = (min) => {
    for (let i = 0; i < 3; i++) if (v[i] !== (min[i] ?? 0)) return v[i] > (min[i] ?? 0);
    return true;
  };
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(part);
    if (!m) return true;
    const min = m.slice(2).filter((x) => x !== undefined).map(Number);
    return atLeast(min) && (m[1] === '>=' || v[0] === min[0]);
  });
}

let engines;
try {
  engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
} catch {
  engines = undefined;
}
if (typeof engines === 'string' && !nodeSatisfies(process.versions.node, engines)) {
  console.error(`[install] this is Node.js ${process.versions.node}; the platform needs ${engines} (package.json engines). Install a current LTS from https://nodejs.org and run it again.`);
  process.exit(1);
}
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
  // `npm start` builds next (`npm run build --silent`), which prints nothing until the storefront's line at its end:
  // minutes on a first run, long enough to be taken for a hang.
  if (process.env.npm_lifecycle_event === 'prestart') {
    console.log('[install] done; next the build (TypeScript and the storefront): a few minutes on a first run, silent until it ends');
  }
}
