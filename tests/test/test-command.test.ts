// scripts/test.js, `npm test`'s runner: it runs what `npm run build` compiled, and tsc never deletes what it once wrote,
// so a test file deleted or renamed since (or one from another branch's build) stayed in dist/ and still ran; and a
// DATABASE_URL it cannot use is said at once, not by every test file in turn.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('when DATABASE_URL reaches no server, then the run stops at once naming DATABASE_URL, its password hidden, and runs no test', async () => {
    const password = `pw${randomUUID().replaceAll('-', '')}`;
    const env = { ...process.env, DATABASE_URL: `postgres://admin:${password}@127.0.0.1:1/postgres`, MONITORING_TOOLS: 'optional' };
    // A test that needs no database, so that before the check it ran and passed.
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), 'tests/dist/test/code-layout.test.js'], { cwd: repoRoot, env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, output);
    assert.match(output, /DATABASE_URL \(postgres:\/\/admin:\*\*\*@127\.0\.0\.1:1\/postgres\)/, output);
    assert.match(output, /ECONNREFUSED/, output);
    assert.ok(!output.includes(password), output);
    assert.doesNotMatch(output, /ℹ tests/, 'no test ran');
  });

  it('when given texts (`node scripts/test.js services/order`), then only the compiled test files whose path holds one of them run', async () => {
    // README.md and docs/configuration.md: "only the compiled tests whose path holds that text". Three test files, each
    // with its source beside it (so none is skipped as stale), under a folder of this run's own in tests/dist/test.
    const folder = path.join(repoRoot, 'tests', 'dist', 'test', `path-filter-${randomUUID()}`);
    const names = ['alpha', 'beta', 'alphabet'];
    mkdirSync(path.join(folder, 'dist', 'test'), { recursive: true });
    mkdirSync(path.join(folder, 'test'), { recursive: true });
    for (const name of names) {
      writeFileSync(path.join(folder, 'dist', 'test', `${name}.test.js`), `import { it } from 'node:test';\nit('probe ${name} ran', () => {});\n`);
      writeFileSync(path.join(folder, 'test', `${name}.test.ts`), '');
    }
    const run = async (...filter: string[]) => {
      const env: NodeJS.ProcessEnv = { ...process.env, MONITORING_TOOLS: 'optional' };
      delete env.NODE_TEST_CONTEXT;
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), ...filter], { cwd: repoRoot, env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      return { code, ran: names.filter((name) => output.includes(`probe ${name} ran`)), output };
    };
    try {
      const dist = path.relative(repoRoot, path.join(folder, 'dist', 'test'));
      // One file's path, a text two paths hold, two texts: each runs exactly the files whose path holds one of them.
      for (const [filter, expected] of [
        [[path.join(dist, 'beta.test.js')], ['beta']],
        [[path.join(dist, 'alpha')], ['alpha', 'alphabet']],
        [[path.join(dist, 'beta'), path.join(dist, 'alphabet')], ['beta', 'alphabet']],
      ] as const) {
        const { code, ran, output } = await run(...filter);
        assert.equal(code, 0, output);
        assert.deepEqual(ran, expected, `${filter.join(' ')}: ${output}`);
      }
      // A text no path holds runs nothing, and says so.
      const none = await run(path.join(dist, 'gamma'));
      assert.equal(none.code, 1, none.output);
      assert.match(none.output, /no test files found/, none.output);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('when TEST_CONCURRENCY and TEST_TIMEOUT_MS are set empty, then they count as unset (3 files at once, 20 min), as every variable does, and the tests run', async () => {
    // docs/configuration.md: `TEST_CONCURRENCY` (3), `TEST_TIMEOUT_MS` (1200000). Empty, the runner passed
    // `--test-concurrency=` to node, which stopped: "--test-concurrency= requires an argument".
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_CONCURRENCY: '', TEST_TIMEOUT_MS: '', MONITORING_TOOLS: 'optional' };
    // The runner it starts is a test run of its own, not one nested in this file's (which node:test would skip).
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), 'tests/dist/test/code-layout.test.js'], { cwd: repoRoot, env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /ℹ pass [1-9]/, output);
    assert.match(output, /ℹ fail 0/, output);
  });
  it('when Chromium test files (web/dist/test/browser/) are among those run, then they run one at a time beside the others, Lighthouse\'s after all of them with nothing beside it, their lines whole and marked, and a failure in any pass fails the run', async () => {
    // Three Chromium files at once (a platform and a browser each) on two cores were as slow as the one file they were
    // split from; they run in a pass of their own, one at a time, while the others take the rest of the concurrency.
    const folder = path.join(repoRoot, 'tests', 'dist', 'test', `two-passes-${randomUUID()}`);
    const spans = path.join(folder, 'spans.log');
    const probe = (dir: string, name: string, fails = false) => {
      mkdirSync(path.join(folder, dir, 'dist', 'test', ...(dir === 'web' ? ['browser'] : [])), { recursive: true });
      mkdirSync(path.join(folder, dir, 'test', ...(dir === 'web' ? ['browser'] : [])), { recursive: true });
      const at = dir === 'web' ? ['browser', name] : [name];
      writeFileSync(path.join(folder, dir, 'test', ...at) + '.test.ts', '');
      writeFileSync(
        path.join(folder, dir, 'dist', 'test', ...at) + '.test.js',
        `import { appendFileSync } from 'node:fs';\nimport { it } from 'node:test';\nit('probe ${name} ran', async () => {\n  const from = Date.now();\n  await new Promise((r) => setTimeout(r, 600));\n  appendFileSync(${JSON.stringify(spans)}, JSON.stringify({ name: '${name}', chromium: ${dir === 'web'}, from, to: Date.now() }) + '\\n');\n  ${fails ? "throw new Error('probe failed');" : ''}\n});\n`,
      );
    };
    const run = async () => {
      writeFileSync(spans, '');
      const env: NodeJS.ProcessEnv = { ...process.env, MONITORING_TOOLS: 'optional', TEST_CONCURRENCY: '3' };
      delete env.NODE_TEST_CONTEXT;
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), path.relative(repoRoot, folder)], { cwd: repoRoot, env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      const ran = readFileSync(spans, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { name: string; chromium: boolean; from: number; to: number });
      return { code, output, ran };
    };
    try {
      for (const name of ['shop', 'cart', 'admin', 'lighthouse']) probe('web', name);
      for (const name of ['one', 'two']) probe('svc', name);
      const { code, output, ran: all } = await run();
      assert.equal(code, 0, output);
      assert.equal(all.length, 6, output);
      // Lighthouse's score is the machine's speed: it starts once every other file has ended.
      const lighthouse = all.find((r) => r.name === 'lighthouse')!;
      const ran = all.filter((r) => r !== lighthouse);
      assert.ok(ran.every((r) => r.to <= lighthouse.from), `Lighthouse beside another file: ${JSON.stringify(all)}`);
      assert.match(output, /^\[alone\] .*probe lighthouse ran/m, output);
      const chromium = ran.filter((r) => r.chromium).sort((a, b) => a.from - b.from);
      for (let i = 1; i < chromium.length; i++) assert.ok(chromium[i]!.from >= chromium[i - 1]!.to, `two Chromium files at once: ${JSON.stringify(chromium)}`);
      const others = ran.filter((r) => !r.chromium);
      assert.ok(others.some((o) => o.from < chromium.at(-1)!.to && o.to > chromium[0]!.from), `the others ran beside them: ${JSON.stringify(ran)}`);
      for (const name of ['shop', 'cart', 'admin']) assert.match(output, new RegExp(`^\\[chromium\\] .*probe ${name} ran`, 'm'), output);
      assert.match(
        output,
        /^npm test: the other 2 files: 2 tests, 2 pass, 0 fail, 0 cancelled, exit 0; the chromium pass \(3 files, one at a time\): 3 tests, 3 pass, 0 fail, 0 cancelled, exit 0; the alone pass \(1 file\(s\), after the others\): 1 tests, 1 pass, 0 fail, 0 cancelled, exit 0$/m,
        output,
      );
      // A failure in the Chromium pass alone fails the run.
      probe('web', 'cart', true);
      const failed = await run();
      assert.equal(failed.code, 1, failed.output);
      assert.match(failed.output, /the chromium pass \(3 files, one at a time\): 3 tests, 2 pass, 1 fail, 0 cancelled, exit 1/, failed.output);
      // CI shows the tail of the output: the failing test is named there with its message, after every pass's lines, not only in the middle
      // where the chromium pass ended.
      const tail = failed.output.trimEnd().split('\n');
      const from = tail.findIndex((l) => l.startsWith('npm test: failing in the chromium pass (3 files, one at a time):'));
      assert.ok(from > 0 && tail.slice(from + 1).every((l) => !l.startsWith('[')), failed.output);
      assert.deepEqual(
        tail.slice(from + 1, -1).map((l) => l.replace(/:\d+:\d+$/, '').replace(/ \(.*\)$/, '')),
        // With its error's message (the stack left out): a failure named alone could not be told from its test's other asserts.
        [`  test at ${path.join(path.relative(repoRoot, folder), 'web', 'dist', 'test', 'browser', 'cart.test.js')}`, '  ✖ probe cart ran', '    Error: probe failed'],
        failed.output,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
