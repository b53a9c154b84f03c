// scripts/test.js, `npm test`'s runner: it runs what `npm run build` compiled, and tsc never deletes what it once wrote,
// so a test file deleted or renamed since (or one from another branch's build) stayed in dist/ and still ran.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../src/paths.js';

describe("npm test's runner (scripts/test.js)", { timeout: 60_000 }, () => {
  it('when a compiled test file has no source any more (a stale build), then it is not run, and the runner names it', async () => {
    const name = `stale-${randomUUID()}`;
    const compiled = path.join(repoRoot, 'tests', 'dist', 'test', `${name}.test.js`);
    writeFileSync(compiled, "import { it } from 'node:test';\nit('a test whose source is gone', () => { throw new Error('ran'); });\n");
    try {
      // DATABASE_URL given, so no embedded server is started for a run that reaches no database.
      const env = { ...process.env, DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', MONITORING_TOOLS: 'optional' };
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), name], { cwd: repoRoot, env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      await new Promise((resolve) => child.on('exit', resolve));
      assert.doesNotMatch(output, /a test whose source is gone/, output);
      assert.ok(output.includes(path.join('tests', 'dist', 'test', `${name}.test.js`)), output);
      assert.match(output, /source is gone/, output);
    } finally {
      rmSync(compiled, { force: true });
    }
  });
});
