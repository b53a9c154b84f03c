// `npm run monitoring` installs Prometheus, Alertmanager and postgres_exporter when they are missing
// (scripts/install-monitoring.sh). When that fails, the newcomer is told what is still missing and what to do.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../src/paths.js';
import { ensureTools } from '../src/stack.js';

/** The bash on this PATH (the install script's interpreter). */
function findBash(): string {
  for (const entry of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(entry, 'bash');
    if (entry && existsSync(candidate)) return candidate;
  }
  throw new Error('no bash on PATH');
}

describe('installing the monitoring tools', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'install-tools-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('when the install script fails, then the error names the tools still missing and says what to do next', (t) => {
    // A PATH with bash but none of the tools, and an install script that fails as apt-get does when another apt
    // holds the lock.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(findBash(), path.join(bin, 'bash'));
    const script = path.join(dir, 'install.sh');
    writeFileSync(script, 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100\n');
    chmodSync(script, 0o755);
    const savedPath = process.env.PATH;
    t.after(() => {
      process.env.PATH = savedPath;
    });
    process.env.PATH = bin;
    const lines: string[] = [];
    let message = '';
    try {
      ensureTools((line) => lines.push(line), { script, tools: ['prometheus', 'amtool'] });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    process.env.PATH = savedPath;
    assert.deepEqual(lines, ['missing prometheus, amtool: running scripts/install-monitoring.sh']);
    assert.match(message, /still missing: prometheus, amtool/);
    assert.match(message, /exited with 100/);
    assert.match(message, /run npm run monitoring again/);
  });

  test('when apt-get runs, then it waits for a dpkg lock another apt holds instead of failing at once', () => {
    const text = readFileSync(path.join(repoRoot, 'scripts', 'install-monitoring.sh'), 'utf8');
    const calls = text.split('\n').filter((line) => /^\s*\$SUDO apt-get /.test(line));
    assert.ok(calls.length >= 2, `only ${calls.length} apt-get calls read`);
    assert.deepEqual(calls.filter((line) => !line.includes('"${LOCK_WAIT[@]}"')), []);
    assert.match(text, /^LOCK_WAIT=\(-o DPkg::Lock::Timeout=\d+\)$/m);
  });
});
