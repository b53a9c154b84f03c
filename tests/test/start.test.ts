// scripts/start.js, `npm start` itself, started the way npm starts it (`sh -c`, in a process group of its own like
// a terminal's foreground job), with the embedded PostgreSQL (no DATABASE_URL), its own data folder and free ports:
// - a second start on the same data folder says the platform already runs there (it was told, port by port, to set
//   EMBEDDED_PG_PORT=0, then USER_PORT=0, ..., advice that could not work);
// - Ctrl-C (SIGINT to the whole process group, as a terminal sends it) drains the services and stops the database
//   last (each service took the SIGINT and then the supervisor's SIGTERM as a second signal: "second SIGTERM,
//   exiting", no drain, while PostgreSQL, also hit, shut down under them);
// - the SIGTERM npm forwards to its `sh -c` (`kill <npm's pid>`) stops the platform (sh died and left it running).
// - a service SIGKILLed is restarted, said in the README's words;
// - it prints the shop, the docs pages and an admin login that works (README: "prints the URLs, the API docs pages and
//   the admin login it created").
// Without starting one: its prestart refuses a running data folder before the build, and a build that lost an entry
// point is told to run what rebuilds it (tsc -b --force), not the npm run build it has just run.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../src/paths.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'ecommerce-start-'));
chmodSync(dataDir, 0o755); // the embedded server runs as the postgres user when we are root
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info' };
delete env.DATABASE_URL;
delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
const freePorts = { USER_PORT: '0', PRODUCT_PORT: '0', ORDER_PORT: '0', GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0', EMBEDDED_PG_PORT: '0' };

interface Run {
  sh: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}
const runs: Run[] = [];

/** `sh -c 'node scripts/start.js'` as npm runs it, in a process group of its own (pid = the sh's). */
function start(extra: Record<string, string>): Run {
  const sh = spawn('sh', ['-c', 'node scripts/start.js'], { cwd: repoRoot, env: { ...env, ...extra }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sh.stdout!.on('data', (c) => (out += c));
  sh.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => sh.once('exit', (code) => resolve(code)));
  const run = { sh, output: () => out, exited };
  runs.push(run);
  return run;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Whether any process of the group `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes of the platform under test: started with its DATA_DIR, or (PostgreSQL) naming its data folder. */
function platformPids(dir = dataDir): number[] {
  const read = (pid: string, file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => read(d, 'environ').split('\0').includes(`DATA_DIR=${dir}`) || read(d, 'cmdline').includes(dir))
    .map(Number);
}

const up = (run: Run) => waitFor('"is up" in the output of npm start', 90_000, () => run.output().includes('E-commerce platform is up') || (run.sh.exitCode !== null && assert.fail(`npm start exited:\n${run.output()}`)));
const logs = () => readdirSync(path.join(dataDir, 'logs')).map((f) => readFileSync(path.join(dataDir, 'logs', f), 'utf8')).join('\n');

after(async () => {
  for (const run of runs) {
    if (groupAlive(run.sh.pid!)) process.kill(-run.sh.pid!, 'SIGTERM');
  }
  // Whatever is left of the platform under this data folder (a relay that lost its group included).
  await sleep(500);
  for (const pid of platformPids()) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (scripts/start.js)', { skip: process.platform === 'win32' && 'process groups' }, () => {
  it('when npm start runs again on the same data folder, then the second start fails at once saying the platform already runs there, and the first keeps serving', async () => {
    // With an OTLP endpoint but OTEL_SDK_DISABLED=true, no service traces, and the banner says so (it said "on: spans
    // to http://127.0.0.1:9" while the preload, which reads OTEL_SDK_DISABLED, loaded nothing).
    const first = start({ ...freePorts, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' });
    await up(first);
    assert.match(first.output(), /Tracing +off \(OTEL_SDK_DISABLED=true\)/);
    assert.ok(first.output().includes(`no DATABASE_URL: starting an embedded PostgreSQL (data under ${path.join(dataDir, 'postgres')})`), first.output());
    const cmdlines = platformPids().map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    assert.ok(cmdlines.some((c) => c.includes('services/order')), cmdlines.join('\n'));
    assert.ok(cmdlines.every((c) => !c.includes('telemetry')), cmdlines.join('\n'));
    assert.ok(existsSync(path.join(dataDir, 'stack.pid')), 'the data folder names its platform');
    const { ports } = JSON.parse(readFileSync(path.join(dataDir, 'stack.json'), 'utf8')) as { ports: Record<string, number> };
    // The second one asks for the first one's ports, as two plain `npm start` do (8080, 3001, ..., 54329).
    const pgPort = new URL((JSON.parse(readFileSync(path.join(dataDir, 'stack.json'), 'utf8')) as { databaseUrl: string }).databaseUrl).port;
    const second = start({ ...freePorts, USER_PORT: String(ports.user), GATEWAY_PORT: String(ports.gateway), EMBEDDED_PG_PORT: pgPort });
    assert.equal(await second.exited, 1);
    assert.match(second.output(), new RegExp(`the platform is already running from ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid \\d+, its gateway and shop on port ${ports.gateway}\\)`));
    assert.doesNotMatch(second.output(), /already in use by another process/);
    // Nothing of its own started, and the first platform is not being stopped: no "starting an embedded PostgreSQL",
    // no "stopping ...", no "stopped.".
    assert.doesNotMatch(second.output(), /starting an embedded PostgreSQL|stopping|stopped/);
    // Following the old advice (every port 0) meets the same answer, not the database's.
    const third = start(freePorts);
    assert.equal(await third.exited, 1);
    assert.match(third.output(), /the platform is already running from/);
    const res = await fetch(`http://127.0.0.1:${ports.gateway}/readyz`);
    assert.equal(res.status, 200);
  });

  it('when npm start is up, then it prints what the README says it prints: the shop, the API docs pages that answer, and an admin login that signs in and may list users; its logs and secrets are in the data folder', async () => {
    const run = runs.find((r) => r.sh.exitCode === null) ?? start(freePorts);
    await up(run);
    const banner = run.output();
    const gateway = /Gateway \(public API\) +(http:\/\/\S+)/.exec(banner)?.[1];
    assert.ok(gateway, banner);
    const shop = /Shop \(storefront\) +(http:\/\/\S+)/.exec(banner)?.[1];
    assert.equal(shop, `${gateway}/`);
    const page = await fetch(shop);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const docs = [...banner.matchAll(/docs (http:\/\/\S+)/g)].map((m) => m[1] ?? '');
    assert.deepEqual(docs, ['user', 'product', 'order'].map((p) => `${gateway}/${p}/docs`));
    for (const url of docs) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, url);
    }
    const [, email = '', password = ''] = /Admin login +(\S+) \/ (\S+)/.exec(banner) ?? [];
    const secrets = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
    assert.equal(password, secrets.adminPassword, 'the password kept in the data folder');
    assert.equal(typeof secrets.orderClientSecret, 'string', 'the order client secret the Postman environment needs');
    const login = await fetch(`${gateway}/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    assert.equal(login.status, 200, await login.clone().text());
    const { accessToken } = (await login.json()) as { accessToken: string };
    assert.equal((await fetch(`${gateway}/user/users`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 200, 'an admin lists users');
    assert.match(banner, new RegExp(`Logs +${path.join(dataDir, 'logs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(supervisor events in stack\\.log\\)`));
    const events = readFileSync(path.join(dataDir, 'logs', 'stack.log'), 'utf8').trim().split('\n');
    assert.ok(events.length >= 1 && events.every((line) => typeof (JSON.parse(line) as { event?: unknown }).event === 'string'), 'JSON lines');
  });

  it('when a service is SIGKILLed, then npm start says so in the words the README quotes, with the default back-off, restarts it and says it is back', async () => {
    const run = runs.find((r) => r.sh.exitCode === null) ?? start(freePorts);
    await up(run);
    const said = /\(`(\[supervisor\] order exited unexpectedly \(code null, signal SIGKILL\); restarting in [\d.]+ s)`, then `(order is back)`/.exec(
      readFileSync(path.join(repoRoot, 'README.md'), 'utf8').replace(/\s+/g, ' '),
    );
    assert.ok(said, 'README no longer quotes "[supervisor] order exited unexpectedly (...); restarting in <n> s", then "order is back"');
    const order = platformPids().find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('services/order/'));
    assert.ok(order, 'the order service runs');
    const before = run.output().length;
    process.kill(order, 'SIGKILL');
    await waitFor('"order is back"', 60_000, () => run.output().slice(before).includes(`[supervisor] ${said[2]}`));
    const after = run.output().slice(before);
    assert.ok(after.includes(said[1] ?? ''), after);
    assert.equal(run.sh.exitCode, null, 'the platform keeps running');
  });

  it('when a port is taken at start, then the start fails naming it and its variable, says nothing of starting or stopping a database (nothing had started), and leaves nothing running', async () => {
    const stranger = createServer();
    await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
    const taken = (stranger.address() as AddressInfo).port;
    const dir = mkdtempSync(path.join(tmpdir(), 'ecommerce-start-taken-'));
    try {
      const run = start({ ...freePorts, DATA_DIR: dir, GATEWAY_PORT: String(taken) });
      assert.equal(await run.exited, 1);
      assert.match(run.output(), new RegExp(`start failed: 127\\.0\\.0\\.1:${taken} \\(GATEWAY_PORT\\) is already in use by another process: stop it, or set GATEWAY_PORT=0`));
      assert.doesNotMatch(run.output(), /starting an embedded PostgreSQL|stopping|stopped/, run.output());
      assert.equal(existsSync(path.join(dir, 'stack.pid')), false, 'the data folder is left free');
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when Ctrl-C reaches the whole process group, then every service drains once (no "second SIGTERM") and the database stops after them', async () => {
    const run = runs.find((r) => r.sh.exitCode === null) ?? start(freePorts);
    await up(run);
    process.kill(-run.sh.pid!, 'SIGINT');
    await waitFor('every process of the platform to end', 40_000, () => !groupAlive(run.sh.pid!) && platformPids().length === 0);
    const all = logs(); // this data folder's only run so far
    assert.doesNotMatch(all, /second SIG/, all);
    assert.doesNotMatch(all, /database connection lost|terminating connection due to administrator command/, all);
    assert.match(all, /"signal":"SIGTERM","msg":"shutting down, draining requests"/);
    assert.doesNotMatch(run.output(), /second SIG/, run.output());
    assert.match(run.output(), /stopped\./);
    assert.equal(existsSync(path.join(dataDir, 'stack.pid')), false, 'the data folder is free again');
  });

  it('when Ctrl-C comes during the start-up, once the services are being started, then nothing of the platform is left running', async () => {
    rmSync(path.join(dataDir, 'logs'), { recursive: true, force: true });
    const run = start(freePorts);
    // The services are spawned once PostgreSQL is up and provisioned: their log files appear.
    await waitFor('a service to be spawned', 60_000, () => existsSync(path.join(dataDir, 'logs', 'user.log')));
    assert.doesNotMatch(run.output(), /E-commerce platform is up/, 'still starting');
    process.kill(-run.sh.pid!, 'SIGINT');
    await waitFor('every process of the platform to end', 40_000, () => !groupAlive(run.sh.pid!) && platformPids().length === 0);
    assert.match(run.output(), /stopped\./);
    assert.doesNotMatch(run.output(), /start failed/);
  });

  it("when npm's SIGTERM reaches only its sh -c, then the platform stops all the same (it kept running, ports held)", async () => {
    const run = start(freePorts);
    await up(run);
    assert.ok(platformPids().length >= 6, 'sh, start.js, PostgreSQL and four services');
    process.kill(run.sh.pid!, 'SIGTERM'); // the sh alone, as npm forwards it
    await waitFor('every process of the platform to end', 40_000, () => platformPids().length === 0);
    assert.equal(existsSync(path.join(dataDir, 'stack.pid')), false, 'the data folder is free again');
  });

  it('when the supervisor itself is SIGKILLed (kill -9, the OOM killer), then its services stop by themselves and the next npm start stops the PostgreSQL it left, comes up, and keeps the data', async () => {
    // Its services and PostgreSQL ran on as orphans, holding their ports and the data folder: the next start was refused
    // ("an embedded PostgreSQL (pid N) already runs on ...", or the ports "already in use") until each was killed by hand.
    const dir = mkdtempSync(path.join(tmpdir(), 'ecommerce-start-killed-'));
    chmodSync(dir, 0o755);
    const cmdline = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const services = () => platformPids(dir).filter((pid) => cmdline(pid).includes('/dist/src/main.js'));
    try {
      const first = start({ ...freePorts, DATA_DIR: dir });
      await waitFor('"is up"', 90_000, () => first.output().includes('E-commerce platform is up') || (first.sh.exitCode !== null && assert.fail(first.output())));
      const gateway = /Gateway \(public API\) +(http:\/\/\S+)/.exec(first.output())?.[1];
      const account = { email: `kept-${process.pid}@example.com`, password: 'correct-horse-kept-1', name: 'Kept' };
      const registered = await fetch(`${gateway}/user/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
      assert.equal(registered.status, 201, await registered.clone().text());
      const supervisor = platformPids(dir).find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('ECOMMERCE_START_INNER=1');
        } catch {
          return false;
        }
      });
      assert.ok(supervisor, 'the supervisor (start.js in its own process group) runs');
      assert.equal(services().length, 4, 'four services');
      process.kill(-first.sh.pid!, 'SIGKILL'); // npm's group
      process.kill(supervisor, 'SIGKILL');
      await waitFor('the orphaned services to stop by themselves', 20_000, () => services().length === 0);
      const second = start({ ...freePorts, DATA_DIR: dir });
      await waitFor('the second start to be up', 90_000, () => second.output().includes('E-commerce platform is up') || (second.sh.exitCode !== null && assert.fail(second.output())));
      assert.match(second.output(), /stopped the embedded PostgreSQL \(pid \d+\) that a platform killed outright had left running/);
      const again = /Gateway \(public API\) +(http:\/\/\S+)/.exec(second.output())?.[1];
      const login = await fetch(`${again}/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: account.email, password: account.password }) });
      assert.equal(login.status, 200, 'the account made before the kill signs in after it');
      process.kill(-second.sh.pid!, 'SIGINT');
      await waitFor('every process of the platform to end', 40_000, () => platformPids(dir).length === 0);
    } finally {
      for (const pid of platformPids(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the variables npm start reads are set empty (`ADMIN_PASSWORD=` in a shell or an env file), then they count as unset, as in the services\' config: the default admin is made with a generated password and the printed login signs in', async () => {
    // README, Configuration: ADMIN_EMAIL and ADMIN_PASSWORD default to admin@ecommerce.local and a generated one.
    // Empty, the start gave the user service ADMIN_PASSWORD='' (its config reads that as unset, so no admin was
    // made) and printed "Admin login admin@ecommerce.local / " with nothing after it.
    const dir = mkdtempSync(path.join(tmpdir(), 'ecommerce-start-empty-'));
    chmodSync(dir, 0o755);
    try {
      const run = start({ ...freePorts, DATA_DIR: dir, ADMIN_EMAIL: '', ADMIN_PASSWORD: '', HOST: '', DATABASE_NAME: '' });
      await waitFor('"is up" in the output of npm start', 90_000, () => run.output().includes('E-commerce platform is up') || (run.sh.exitCode !== null && assert.fail(`npm start exited:\n${run.output()}`)));
      const banner = run.output();
      const gateway = /Gateway \(public API\) +(http:\/\/\S+)/.exec(banner)?.[1];
      const login = /Admin login +(\S*) \/ (\S*)\n/.exec(banner);
      assert.ok(gateway && login, banner);
      const secrets = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
      assert.deepEqual([login[1], login[2]], ['admin@ecommerce.local', secrets.adminPassword], 'the default admin and the generated password');
      const res = await fetch(`${gateway}/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: login[1], password: login[2] }) });
      assert.equal(res.status, 200, await res.clone().text());
      process.kill(-run.sh.pid!, 'SIGINT');
      await run.exited;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `npm run prestart` (the check before npm start's build) with `dataDir` as DATA_DIR: its exit code and all it wrote. */
async function runPrestart(dataDir: string): Promise<{ code: number | null; out: string }> {
  const npm = spawn('npm', ['run', '--silent', 'prestart'], { cwd: repoRoot, env: { ...env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npm.stdout.on('data', (c) => (out += c));
  npm.stderr.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((resolve) => npm.once('exit', resolve));
  return { code, out };
}

describe("npm start's prestart (before the build)", () => {
  it('when a platform runs from the data folder, then `npm run prestart` fails naming it and its port, so npm start stops before its build rewrites the files that platform serves', async () => {
    // A data folder whose stack.pid names a live Node.js process (this test's) and whose stack.json names its port.
    const running = mkdtempSync(path.join(tmpdir(), 'ecommerce-prestart-'));
    try {
      writeFileSync(path.join(running, 'stack.pid'), `${process.pid}\n`);
      writeFileSync(path.join(running, 'stack.json'), JSON.stringify({ ports: { gateway: 18123 } }));
      const { code, out } = await runPrestart(running);
      assert.notEqual(code, 0, out);
      assert.ok(out.includes(`the platform is already running from ${running} (pid ${process.pid}, its gateway and shop on port 18123)`), out);
      // Taken over when its process is gone, as the start itself does.
      writeFileSync(path.join(running, 'stack.pid'), '2147483646\n');
      const again = spawn('npm', ['run', '--silent', 'prestart'], { cwd: repoRoot, env: { ...env, DATA_DIR: running }, stdio: 'ignore' });
      assert.equal(await new Promise<number | null>((resolve) => again.once('exit', resolve)), 0);
    } finally {
      rmSync(running, { recursive: true, force: true });
    }
  });
});

describe("npm start's prestart, two at once", { skip: process.platform !== 'linux' && '/proc' }, () => {
  it('when another npm start is still building in the data folder (no stack.pid yet), then `npm run prestart` fails naming its pid, before a second build fails with Vite\'s stack trace', async () => {
    // Two `npm start` at once in one checkout: both passed the prestart and built together, and the second died in the
    // storefront's build: "Error: Found another Vite build process for this project (PID n)" and its stack.
    const folder = mkdtempSync(path.join(tmpdir(), 'ecommerce-prestart-two-'));
    const other = spawn(process.execPath, ['-e', "process.title = 'npm start'; setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    const prestart = () => runPrestart(folder);
    try {
      await waitFor('the stand-in npm start', 10_000, () => readFileSync(`/proc/${other.pid}/cmdline`, 'utf8').startsWith('npm start'));
      writeFileSync(path.join(folder, 'starting.pid'), `${other.pid}\n`);
      const refused = await prestart();
      assert.notEqual(refused.code, 0, refused.out);
      assert.ok(refused.out.includes(`start failed: another npm start (pid ${other.pid}) is building and starting the platform from ${folder}`), refused.out);
      other.kill();
      await new Promise((resolve) => other.once('exit', resolve));
      const free = await prestart(); // its npm gone: taken over
      assert.equal(free.code, 0, free.out);
    } finally {
      other.kill();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

const { lockDataDir } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'platform-lock.js')).href)) as { lockDataDir(dataDir: string): () => void };

describe("npm start's claim on its data folder, once it is not needed", { skip: process.platform !== 'linux' && '/proc' }, () => {
  it('when the start holds the folder (stack.pid), then its starting.pid is gone; and a starting.pid naming a live npm that is no start does not refuse one', async () => {
    // starting.pid stayed after every start: a later npm given the same pid (an `npm install` anywhere) was named as
    // "another npm start ... is building", and the next start refused until it ended.
    const folder = mkdtempSync(path.join(tmpdir(), 'ecommerce-prestart-left-'));
    const other = spawn(process.execPath, ['-e', "process.title = 'npm install'; setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(folder, 'starting.pid'), `${process.pid}\n`);
      const unlock = lockDataDir(folder);
      assert.equal(existsSync(path.join(folder, 'starting.pid')), false, 'starting.pid left beside stack.pid');
      unlock();
      await waitFor('the stand-in npm install', 10_000, () => readFileSync(`/proc/${other.pid}/cmdline`, 'utf8').startsWith('npm install'));
      writeFileSync(path.join(folder, 'starting.pid'), `${other.pid}\n`);
      const { code, out } = await runPrestart(folder);
      assert.equal(code, 0, out);
    } finally {
      other.kill();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

const { missingBuild } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as { missingBuild(rootDir: string): string | null };

describe('npm start on a build that lost a file (scripts/stack.js missingBuild)', () => {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

  it('when a built entry point was deleted, then tsc -b does not write it again and tsc -b --force does, which is what the start says to run', () => {
    const project = mkdtempSync(path.join(tmpdir(), 'ecommerce-tsc-'));
    try {
      mkdirSync(path.join(project, 'src'));
      writeFileSync(path.join(project, 'src', 'main.ts'), 'export const up = true;\n');
      writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { composite: true, rootDir: '.', outDir: 'dist', lib: ['es2020'], types: [], skipLibCheck: true }, include: ['src'] }));
      const main = path.join(project, 'dist', 'src', 'main.js');
      const build = (...flags: string[]) => execFileSync(process.execPath, [tsc, '-b', ...flags, project]);
      build();
      rmSync(main);
      build();
      assert.equal(existsSync(main), false, 'tsc -b wrote it again: the message can say npm run build');
      build('--force');
      assert.equal(existsSync(main), true);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('when an entry point is missing, then the start names it and says npx tsc -b --force, not the npm run build it has just run', () => {
    const checkout = mkdtempSync(path.join(tmpdir(), 'ecommerce-unbuilt-'));
    try {
      for (const name of ['user', 'product', 'order']) {
        mkdirSync(path.join(checkout, 'services', name, 'dist', 'src'), { recursive: true });
        writeFileSync(path.join(checkout, 'services', name, 'dist', 'src', 'main.js'), '');
      }
      const message = missingBuild(checkout) ?? '';
      assert.ok(message.includes(path.join(checkout, 'services', 'gateway', 'dist', 'src', 'main.js')), message);
      assert.match(message, /npx tsc -b --force/);
      assert.doesNotMatch(message, /npm run build/);
      assert.equal(missingBuild(repoRoot), null, 'this checkout is built');
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});

describe('scripts/parent-watch.js (npm start, npm run monitoring)', { skip: process.platform === 'win32' && 'sh' }, () => {
  it('when the sh -c that npm runs a script through is killed alone, then the script hears its parent is gone and can stop what it started', async () => {
    const watch = pathToFileURL(path.join(repoRoot, 'scripts', 'parent-watch.js')).href;
    const script = `import(${JSON.stringify(watch)}).then((m) => { m.onParentGone(() => { console.log('parent gone'); process.exit(0); }); console.log('watching'); setInterval(() => {}, 1000); })`;
    const sh = spawn('sh', ['-c', `node -e '${script.replace(/'/g, "'\\''")}'`], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    sh.stdout!.on('data', (c) => (out += c));
    try {
      await waitFor('the script to watch', 10_000, () => out.includes('watching'));
      process.kill(sh.pid!, 'SIGTERM'); // the sh alone: the script keeps running, with stdout still open
      await waitFor('the script to hear it', 5000, () => out.includes('parent gone'));
      await waitFor('the script to exit', 5000, () => !groupAlive(sh.pid!));
    } finally {
      if (groupAlive(sh.pid!)) process.kill(-sh.pid!, 'SIGKILL');
    }
  });
});

const { tracingOf } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as {
  tracingOf(env: NodeJS.ProcessEnv, service: string): { args: string[]; env: Record<string, string> };
};

describe("npm start's tracing settings (scripts/stack.js tracingOf)", () => {
  it('when OTEL_RESOURCE_ATTRIBUTES or OTEL_BSP_SCHEDULE_DELAY is empty or blank, then npm start\'s own default is used, as the SDK counts such a variable unset; a value is kept as it is', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    for (const blank of [undefined, '', ' ', '\t']) {
      const { env } = tracingOf({ ...on, OTEL_RESOURCE_ATTRIBUTES: blank, OTEL_BSP_SCHEDULE_DELAY: blank }, 'order');
      // Before, an empty value was passed on: the SDK read it as unset, so the service lost deployment.environment.name=local
      // and exported every 5 s instead of 0.5 s.
      assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, 'deployment.environment.name=local', JSON.stringify(blank));
      assert.equal(env.OTEL_BSP_SCHEDULE_DELAY, '500', JSON.stringify(blank));
      assert.equal(env.OTEL_SERVICE_NAME, 'order');
    }
    const { env } = tracingOf({ ...on, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=demo', OTEL_BSP_SCHEDULE_DELAY: '100' }, 'user');
    assert.deepEqual(env, { OTEL_SERVICE_NAME: 'user', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=demo', OTEL_BSP_SCHEDULE_DELAY: '100' });
    assert.deepEqual(tracingOf({}, 'user'), { args: [], env: {} });
  });
});
