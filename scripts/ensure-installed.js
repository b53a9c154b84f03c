// `npm start` and `npm test` on a fresh clone: installs the dependencies first (`npm ci`) when they are missing
// or older than package-lock.json, so each is one command on a new machine. Uses nothing but Node itself
// (it runs before anything is installed); a checkout that is installed and current costs two stat calls.
// First it checks the running Node against package.json's engines.node, so an old Node is one clear line.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
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
const needsInstall = () => {
  const installed = mtime('node_modules/.package-lock.json');
  const lock = mtime('package-lock.json');
  return installed === null ? 'none' : lock !== null && lock > installed ? 'stale' : null;
};

// One npm ci at a time in a checkout. Ctrl-C during the first install ended this script at once, while npm ci, which
// undoes a cut install before it exits, went on for up to a minute with the prompt back: an `npm start` typed again
// meanwhile ran a second npm ci into the same node_modules, and both failed (ENOTEMPTY, ENOENT), as two `npm start`
// at once on a fresh clone did. The running npm ci's pid is kept in this file; the next start waits for it to end.
const installLock = join(root, '.npm-ci.pid');

/** The pid of an npm ci still running in this checkout by the lock file, or null. */
function runningInstall() {
  let pid;
  try {
    pid = Number(readFileSync(installLock, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return null;
  }
  try {
    // npm names itself "npm ci"; a pid reused by another process is no install.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/).includes('ci') ? pid : null;
  } catch {
    return existsSync('/proc/self') ? null : pid;
  }
}

let need = needsInstall();
let told = false;
while (need !== null) {
  const other = runningInstall();
  if (other !== null) {
    if (!told) console.log(`[install] npm ci (pid ${other}) is still running in this checkout (another start, or one stopped with Ctrl-C undoing its install): waiting for it to end`);
    told = true;
    await sleep(250);
    need = needsInstall();
    continue;
  }
  try {
    writeFileSync(installLock, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    if (runningInstall() === null) rmSync(installLock, { force: true }); // its process is gone (or is this one, starting)
    await sleep(50);
    continue;
  }
  break;
}
if (need !== null) {
  console.log(need === 'none' ? '[install] no dependencies yet: npm ci' : '[install] package-lock.json changed since the last install: npm ci');
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const child = spawn(npm[0], [...npm.slice(1), 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (child.pid) writeFileSync(installLock, `${child.pid}\n`);
  // Ctrl-C reaches npm ci itself (same process group): this script waits for it to end, and a SIGTERM or SIGHUP that
  // reaches this script alone is passed on.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const result = await new Promise((resolveExit) => {
    child.once('error', (error) => resolveExit({ status: null, error }));
    child.once('exit', (code, signal) => resolveExit({ status: code ?? (signal ? 1 : 0), signal }));
  });
  try {
    if (readFileSync(installLock, 'utf8').trim() === String(child.pid)) rmSync(installLock, { force: true });
  } catch {
    // already gone
  }
  if (result.status !== 0) {
    console.error(`[install] npm ci failed (${result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit ${result.status}`)}); run it yourself to see why`);
    process.exit(result.status || 1);
  }
  // `npm start` builds next (`npm run build --silent`), which prints nothing until the storefront's line at its end:
  // minutes on a first run, long enough to be taken for a hang.
  if (process.env.npm_lifecycle_event === 'prestart') {
    console.log('[install] done; next the build (TypeScript and the storefront): a few minutes on a first run, silent until it ends');
  }
}
