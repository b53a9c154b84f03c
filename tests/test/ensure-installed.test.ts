// scripts/ensure-installed.js (prestart, pretest): `npm start` on a fresh clone installs first; an installed,
// current checkout is left alone. Run on a copy of the script in a scratch folder, with a stand-in for npm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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
