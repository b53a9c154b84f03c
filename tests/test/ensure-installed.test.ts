// scripts/ensure-installed.js (prestart, pretest): `npm start` on a fresh clone installs first; an installed,
// current checkout is left alone. Run on a copy of the script in a scratch folder, with a stand-in for npm.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../src/paths.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A scratch checkout: the script, a lock file, maybe an install; npm_execpath is a stand-in that logs its args. */
function checkout(state: 'fresh' | 'current' | 'stale', npmExit = 0, engines?: string): { run: (env?: NodeJS.ProcessEnv) => { status: number | null; output: string }; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ensure-installed-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(repoRoot, 'scripts', 'ensure-installed.js'), join(dir, 'scripts', 'ensure-installed.js'));
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  if (engines !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify({ engines: { node: engines } }));
  const log = join(dir, 'npm-calls.log');
  const fakeNpm = join(dir, 'fake-npm.js');
  writeFileSync(fakeNpm, `require('fs').appendFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(' ') + '\\n'); process.exit(${npmExit});`);
  if (state !== 'fresh') {
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', '.package-lock.json'), '{}');
    const old = new Date(Date.now() - 60_000);
    const now = new Date();
    // current: installed after the lock was written; stale: the lock changed after the install.
    utimesSync(join(dir, 'package-lock.json'), old, state === 'current' ? old : now);
    utimesSync(join(dir, 'node_modules', '.package-lock.json'), old, state === 'current' ? now : old);
  }
  return {
    run: (env: NodeJS.ProcessEnv = {}) => {
      const r = spawnSync(process.execPath, [join(dir, 'scripts', 'ensure-installed.js')], { env: { ...process.env, npm_lifecycle_event: '', ...env, npm_execpath: fakeNpm }, encoding: 'utf8' });
      return { status: r.status, output: r.stdout + r.stderr };
    },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

describe('ensure-installed (prestart, pretest)', () => {
  it('when nothing is installed (a fresh clone), then it runs npm ci', () => {
    const c = checkout('fresh');
    const r = c.run();
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(c.calls(), ['ci --no-audit --no-fund']);
    assert.match(r.output, /no dependencies yet/);
  });

  it('when npm start installs (prestart), then it says the silent build comes next, so minutes without output are not taken for a hang', () => {
    const c = checkout('fresh');
    const r = c.run({ npm_lifecycle_event: 'prestart' });
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /\[install\] done; next the build \(TypeScript and the storefront\): a few minutes on a first run, silent until it ends/);
    // npm test (pretest) and a current install say nothing of it.
    assert.doesNotMatch(checkout('fresh').run({ npm_lifecycle_event: 'pretest' }).output, /next the build/);
    assert.doesNotMatch(checkout('current').run({ npm_lifecycle_event: 'prestart' }).output, /next the build/);
  });

  it('when package-lock.json changed after the install, then it runs npm ci', () => {
    const c = checkout('stale');
    assert.equal(c.run().status, 0);
    assert.deepEqual(c.calls(), ['ci --no-audit --no-fund']);
  });

  it('when the install is current, then it does nothing', () => {
    const c = checkout('current');
    const r = c.run();
    assert.equal(r.status, 0);
    assert.deepEqual(c.calls(), []);
    assert.equal(r.output, '');
  });

  it('when npm ci fails, then it fails too (npm start stops), saying so', () => {
    const c = checkout('fresh', 3);
    const r = c.run();
    assert.equal(r.status, 3);
    assert.match(r.output, /npm ci failed/);
  });

  it('when the running Node is outside package.json engines, then it stops before installing, naming both', () => {
    const major = Number(process.versions.node.split('.')[0]);
    for (const engines of [`^${major + 1}.0.0`, `>=${major + 1}`, `^${major}.99.0 || >=${major + 1}`, `^${major - 1}.0.0 || ^${major + 2}.1.0`]) {
      const c = checkout('fresh', 0, engines);
      const r = c.run();
      assert.equal(r.status, 1, `${engines}: ${r.output}`);
      assert.deepEqual(c.calls(), [], engines);
      assert.ok(r.output.includes(`this is Node.js ${process.versions.node}; the platform needs ${engines}`), r.output);
    }
  });

  it('when the running Node is inside package.json engines, then it goes on to install', () => {
    const [major, minor, patch] = process.versions.node.split('.');
    for (const engines of [`^${major}.${minor}.${patch}`, `>=${major}`, `^${Number(major) - 1}.0.0 || ^${major}.0.0 || >=${Number(major) + 2}`, `>=${major}.${minor}`]) {
      const c = checkout('fresh', 0, engines);
      assert.equal(c.run().status, 0, engines);
      assert.deepEqual(c.calls(), ['ci --no-audit --no-fund'], engines);
    }
  });

  it('is what npm start and npm test run first', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    // npm start: first the install, then the data folder's lock (a second platform is refused before any build).
    assert.match(scripts['prestart'] ?? '', /^node scripts\/ensure-installed\.js( && |$)/);
    assert.equal(scripts['pretest'], 'node scripts/ensure-installed.js');
  });
});

/**
 * A scratch fresh checkout whose stand-in npm installs slowly, as the real one does: `ci` takes `installMs`, then writes
 * node_modules/.package-lock.json; on SIGINT it first undoes what it did (`undoMs`), as npm ci does, and exits 130.
 * Each run logs `start <pid> <ms>` and `end <pid> <ms>`.
 */
function slowCheckout(installMs: number, undoMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ensure-installed-slow-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(repoRoot, 'scripts', 'ensure-installed.js'), join(dir, 'scripts', 'ensure-installed.js'));
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  const log = join(dir, 'npm-calls.log');
  const fakeNpm = join(dir, 'fake-npm.js');
  writeFileSync(
    fakeNpm,
    `const fs = require('fs'), path = require('path');
const say = (w) => fs.appendFileSync(${JSON.stringify(log)}, w + ' ' + process.pid + ' ' + Date.now() + '\\n');
let done;
process.on('SIGINT', () => { clearTimeout(done); setTimeout(() => { say('end'); process.exit(130); }, ${undoMs}); });
say('start');
done = setTimeout(() => {
  fs.mkdirSync(${JSON.stringify(join(dir, 'node_modules'))}, { recursive: true });
  fs.writeFileSync(${JSON.stringify(join(dir, 'node_modules', '.package-lock.json'))}, '{}');
  say('end');
  process.exit(0);
}, ${installMs});`,
  );
  const env = { ...process.env, npm_lifecycle_event: '', npm_execpath: fakeNpm };
  const run = (detached: boolean) => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'ensure-installed.js')], { env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  };
  /** Each npm ci run: its pid, start and end (null: still running). */
  const installs = () => {
    const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    const runs = new Map<string, { start: number; end: number | null }>();
    for (const line of lines) {
      const [what, pid = '', at] = line.split(' ');
      if (what === 'start') runs.set(pid, { start: Number(at), end: null });
      else runs.get(pid)!.end = Number(at);
    }
    return [...runs.values()];
  };
  return { dir, run, installs };
}

const overlapping = (runs: { start: number; end: number | null }[]) =>
  runs.some((a, i) => runs.some((b, j) => i !== j && a.start <= b.start && (a.end === null || b.start < a.end)));

async function until(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

describe('ensure-installed, one npm ci at a time in a checkout', { skip: process.platform === 'win32' && 'process groups' }, () => {
  it('when the first install is stopped with Ctrl-C and npm start runs again at once, then the second npm ci waits for the first to finish undoing its install, and succeeds', async () => {
    // npm ci undoes a cut install before it exits (up to a minute); this script died at once, the prompt came back, and
    // the next npm start ran its own npm ci into the same node_modules meanwhile: both failed (ENOTEMPTY, ENOENT).
    const c = slowCheckout(3000, 1500);
    const first = c.run(true);
    await until('the first npm ci', 10_000, () => c.installs().length === 1);
    process.kill(-first.child.pid!, 'SIGINT'); // Ctrl-C: the terminal's whole foreground group
    await sleep(100);
    const second = c.run(false);
    const [firstCode, secondCode] = await Promise.all([first.exited, second.exited]);
    assert.notEqual(firstCode, 0, first.output());
    assert.equal(secondCode, 0, second.output());
    const runs = c.installs();
    assert.equal(runs.length, 2, JSON.stringify(runs));
    assert.ok(!overlapping(runs), `two npm ci ran at once: ${JSON.stringify(runs)}`);
    assert.match(second.output(), /\[install\] npm ci \(pid \d+\) is still running in this checkout/);
    assert.equal(existsSync(join(c.dir, '.npm-ci.pid')), false, 'the lock is left free');
  });

  it('when npm start or npm test run several at once on a fresh clone, then one npm ci runs and the others wait for it and find the install done', async () => {
    const c = slowCheckout(1500, 100);
    const starts = [c.run(false), c.run(false), c.run(false)];
    const codes = await Promise.all(starts.map((s) => s.exited));
    assert.deepEqual(codes, [0, 0, 0], starts.map((s) => s.output()).join('\n---\n'));
    const runs = c.installs();
    assert.equal(runs.length, 1, `npm ci ran ${runs.length} times: ${JSON.stringify(runs)}`);
  });
});
