// `npm test`: runs every workspace's compiled tests (node:test) against a real PostgreSQL:
// DATABASE_URL when given (an admin connection; each test file creates its own database),
// else an embedded server started here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { startEmbeddedPostgres } from './embedded-db.js';

const root = resolve(import.meta.dirname, '..');
const filter = process.argv.slice(2);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.js') && p.includes(`${join('dist', 'test')}`)) out.push(p);
  }
  return out;
}

/** Whether `<package>/dist/test/x.test.js` still has its `<package>/test/x.test.ts(x)`. */
function hasSource(compiled) {
  const at = compiled.lastIndexOf(`${sep}dist${sep}test${sep}`);
  const source = join(compiled.slice(0, at), 'test', compiled.slice(at + `${sep}dist${sep}test${sep}`.length).replace(/\.js$/, ''));
  return existsSync(`${source}.ts`) || existsSync(`${source}.tsx`);
}

const found = ['packages', 'services', 'deploy', 'postman', 'tests', 'web']
  .flatMap((d) => findTests(join(root, d)))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
// tsc never deletes what it once wrote: a test file deleted or renamed since the last build (or compiled on another
// branch) stayed in dist/ and ran, failing or passing for code that is no longer there.
const files = [];
const stale = [];
for (const f of found) (hasSource(f) ? files : stale).push(f);
if (stale.length > 0) {
  console.log(`not running ${stale.length} compiled test file(s) whose source is gone (a stale build; delete them): ${stale.map((f) => relative(root, f)).join(', ')}`);
}
if (files.length === 0) {
  console.error('no test files found (did `npm run build` run?)');
  process.exit(1);
}

let db = null;
const env = { ...process.env };

// The monitoring tests run the real promtool, amtool, Prometheus and Alertmanager (Debian packages).
// Install them when missing and we can (root or sudo with apt); where we cannot, those tests skip and
// say why, unless MONITORING_TOOLS=required (CI), where a missing tool fails them.
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
if (!['promtool', 'amtool', 'prometheus', 'prometheus-alertmanager'].every(has) && env.MONITORING_TOOLS !== 'optional') {
  console.log('monitoring tools missing: running scripts/install-monitoring.sh');
  const installed = spawnSync('bash', [join(root, 'scripts', 'install-monitoring.sh')], { stdio: 'inherit' }).status === 0;
  if (!installed && env.MONITORING_TOOLS !== 'required') {
    console.log('could not install them: the monitoring tests will skip (MONITORING_TOOLS=optional)');
    env.MONITORING_TOOLS = 'optional';
  }
}
// Every stack a test starts on this server gives its roles the same passwords: each database has roles of its own
// (databaseRole), but two stacks a test starts on one database (no DATABASE_NAME) share them.
const { SERVICE_DB_PASSWORDS } = await import('../packages/test-support/dist/src/database.js');
env.USER_DB_PASSWORD ??= SERVICE_DB_PASSWORDS.user;
env.PRODUCT_DB_PASSWORD ??= SERVICE_DB_PASSWORDS.product;
env.ORDER_DB_PASSWORD ??= SERVICE_DB_PASSWORDS.order;
if (env.DATABASE_URL) {
  // Tried once here: a URL that reaches no server (or is no URL) failed every test file in turn, the stacks among them
  // after waiting for their database, a whole run to learn what one connection says.
  const { shownAdminUrl } = await import('./stack.js');
  const shown = shownAdminUrl(env.DATABASE_URL);
  const { default: pg } = await import('pg');
  const client = shown && new pg.Client({ connectionString: env.DATABASE_URL, connectionTimeoutMillis: 10_000 });
  const refused = !client
    ? 'it is not a PostgreSQL URL (postgres://user:password@host:5432/database)'
    : await client.connect().then(
        () => client.query('SELECT 1').then(() => null),
        (err) => err.message,
      );
  await client?.end().catch(() => undefined);
  if (refused) {
    console.error(`npm test: DATABASE_URL${shown ? ` (${shown})` : ''} cannot be used: ${refused}; give an admin connection to a PostgreSQL server, or leave it unset for an embedded one`);
    process.exit(1);
  }
} else {
  // A free port below the kernel's ephemeral range, reserved for this run (testPostgresPort), unless
  // EMBEDDED_PG_TEST_PORT names one: that one is tried first, as `npm start` does, and a taken one is named with the
  // variable that moves it, not left to PostgreSQL's "could not create any TCP/IP sockets" and a stack trace.
  const { testPostgresPort } = await import('./stack.js');
  let port;
  try {
    port = await testPostgresPort(env);
  } catch (err) {
    console.error(`npm test: ${err.message}, or set DATABASE_URL to an admin connection to a PostgreSQL server of your own`);
    process.exit(1);
  }
  console.log(`DATABASE_URL not set: starting an embedded PostgreSQL on 127.0.0.1:${port}`);
  db = await startEmbeddedPostgres({ dir: join(root, '.data', 'test-postgres'), port });
  env.DATABASE_URL = db.adminUrl;
}

// Empty counts as unset, as for every variable: `--test-concurrency=` stopped node ("requires an argument").
const concurrency = Math.max(1, Math.floor(Number(env.TEST_CONCURRENCY)) || 3);
// A test that hangs (an awaited event that never comes) fails after TEST_TIMEOUT_MS (20 min) instead of holding CI to its
// limit. It bounds each file as a whole too: the browser tests in one file (web/test/browser.test.ts, 160 tests) ran past
// 20 min on a slow CI machine and were cut off; they are split by topic into web/test/browser/*.test.ts, each file with a
// platform of its own and well under 10 min alone (170 to 282 s each on a busy 2-core machine, 19 to 35 tests).
const timeout = env.TEST_TIMEOUT_MS || '1200000';

// The Chromium files run one at a time, beside the rest (concurrency - 1 files at once): left in the one queue, three of
// them at once (each a platform of four services and a browser, on two cores) would be as slow as the one file was. So
// the concurrency as a whole is what it was with one file.
const chromiumDir = `${sep}web${sep}dist${sep}test${sep}browser${sep}`;
// Files whose figures are the machine's speed run after all the others, each with nothing beside it: Lighthouse scores
// a trace of this machine's main thread, and in the middle of the run (two other files on two cores) home/mobile scored
// 71 where it scores 97 alone. The one file was run last in the one queue, and scored its figures at the end of the run.
const ALONE = [join('web', 'dist', 'test', 'browser', 'lighthouse.test.js')];
const isAlone = (f) => ALONE.some((a) => f.endsWith(sep + a));
const alone = files.filter(isAlone);
const chromium = files.filter((f) => !isAlone(f) && f.includes(chromiumDir));
const rest = files.filter((f) => !isAlone(f) && !f.includes(chromiumDir));
/** Stages run one after another; the passes of a stage at once, each a `node --test` of its own. */
const stages = [];
if (chromium.length > 0 && rest.length > 0 && concurrency > 1) {
  stages.push([
    { name: '', files: rest, concurrency: concurrency - 1 },
    { name: 'chromium', files: chromium, concurrency: 1 },
  ]);
} else if (chromium.length + rest.length > 0) {
  stages.push([{ name: '', files: [...rest, ...chromium].sort(), concurrency }]);
}
if (alone.length > 0) stages.push([{ name: 'alone', files: alone, concurrency: 1 }]);
const piped = stages.flat().length > 1;

/** Copies a child's output to ours a whole line at a time (two passes never cut into each other's lines), prefixed. */
function copyLines(from, to, prefix, onLine = () => {}) {
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    lines.forEach(onLine);
    if (lines.length > 0) to.write(lines.map((l) => prefix + l + '\n').join(''));
  });
  from.on('end', () => {
    if (!pending) return;
    onLine(pending);
    to.write(prefix + pending + '\n');
  });
}

const MESSAGE_LINES = 3;
function runPass(pass) {
  const args = ['--test', `--test-concurrency=${pass.concurrency}`, `--test-timeout=${timeout}`, '--test-reporter=spec', ...pass.files];
  if (!piped) return { pass, child: spawn(process.execPath, args, { stdio: 'inherit', env }), counts: {} };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const prefix = pass.name ? `[${pass.name}] ` : '';
  // The runner's closing counts (`ℹ tests 1546`, ...), for the summary of every pass, and the names of its failing tests:
  // the spec reporter lists them at the end of its own pass, which is the middle of the run's output when the chromium
  // pass ends before the others, and CI keeps only the tail of a long output (a failed run said "1 fail" and not which).
  const counts = {};
  // Each with the first lines of its error, not the stack: a failure named without its message (CI, stop 47: a browser
  // test in the middle of a file) could not be told from the test's other dozen asserts.
  const failing = [];
  let inFailing = false;
  let messageLines = 0;
  const count = (line) => {
    const m = /^ℹ (tests|pass|fail|cancelled) (\d+)$/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
    if (/^✖ failing tests:/.test(line)) inFailing = true;
    else if (inFailing && /^(test at |✖ )/.test(line)) {
      failing.push(line);
      messageLines = line.startsWith('✖ ') ? 0 : MESSAGE_LINES;
    } else if (inFailing && messageLines < MESSAGE_LINES && /^ {2}\S/.test(line) && !/^\s+at /.test(line)) {
      failing.push(`  ${line.trim().slice(0, 300)}`);
      messageLines += 1;
    } else if (/^\s+at /.test(line)) messageLines = MESSAGE_LINES;
  };
  copyLines(child.stdout, process.stdout, prefix, count);
  copyLines(child.stderr, process.stderr, prefix);
  return { pass, child, counts, failing };
}

let running = [];
let stopped = false;
const stopAll = () => {
  stopped = true;
  running.forEach(({ child }) => child.kill('SIGTERM'));
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
const ran = [];
for (const stage of stages) {
  if (stopped) break;
  running = stage.map(runPass);
  const codes = await Promise.all(running.map(({ child }) => new Promise((r) => child.on('close', (c, s) => r(c ?? (s ? 1 : 0))))));
  running.forEach((run, i) => ran.push({ ...run, code: codes[i] }));
}
if (piped) {
  const names = { '': (n) => `the other ${n} files`, chromium: (n) => `the chromium pass (${n} files, one at a time)`, alone: (n) => `the alone pass (${n} file(s), after the others)` };
  const said = ran.map(({ pass, counts, code }) => `${names[pass.name](pass.files.length)}: ${['tests', 'pass', 'fail', 'cancelled'].map((k) => `${counts[k] ?? '?'} ${k}`).join(', ')}, exit ${code}`);
  // At most 40 lines a pass (a test's name and up to three lines of its error each): a run where everything failed says so in its counts already.
  ran.filter((r) => r.failing.length > 0).forEach(({ pass, failing }) => {
    console.log(`npm test: failing in ${names[pass.name](pass.files.length)}:`);
    failing.slice(0, 40).forEach((l) => console.log(`  ${l}`));
    if (failing.length > 40) console.log(`  ... and ${failing.length - 40} lines more above`);
  });
  console.log(`npm test: ${said.join('; ')}`);
}
const code = stopped ? 1 : (ran.find((r) => r.code !== 0)?.code ?? 0);
if (db) await db.stop();
process.exit(code);
