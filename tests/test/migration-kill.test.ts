// A service SIGKILLed inside a migration at start-up, then started again (a pod killed during its first start,
// a node lost): the migration it was in must leave nothing behind, so the next start applies it and the rest and
// serves. For every migration of every service, on a fresh database each: the migrations before it are applied
// by the kit (a copy of the first files), an admin transaction holds schema_migrations so the INSERT that ends
// the next one waits (its statements have run, uncommitted), the real service process is killed right there,
// and the next start of the real process must reach /readyz 200 with every migration applied once. A migration
// written outside a transaction would fail that start ("already exists") or leave a half-built schema.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Database, Metrics } from '@ecommerce/kit';
import { adminUrlOn, createTestDatabase, freePort, type TestDatabase } from '@ecommerce/test-support';
import { repoRoot } from '../src/paths.js';

const SERVICES = { user: 'users', product: 'catalog', order: 'orders' } as const;
type Service = keyof typeof SERVICES;

function envOf(service: Service, db: TestDatabase, port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'test',
    DATABASE_URL: db.urls[service],
    USER_SERVICE_URL: 'http://127.0.0.1:9',
    PRODUCT_SERVICE_URL: 'http://127.0.0.1:9',
    ...(service === 'user' ? { JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() } : {}),
    ...(service === 'product' ? { SEED_DEMO_DATA: 'false' } : {}),
    ...(service === 'order' ? { SERVICE_CLIENT_ID: 'order-service', SERVICE_CLIENT_SECRET: randomBytes(18).toString('base64url') } : {}),
  };
}

function launch(service: Service, env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<unknown>; output: () => string } {
  const child = spawn(process.execPath, [join(repoRoot, 'services', service, 'dist', 'src', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return { child, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code))), output: () => output };
}

/** Polls until `check` holds, failing after `ms` with `what`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + ms; !(await check()); await sleep(50)) if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
}

async function killInsideMigration(service: Service, files: string[], k: number): Promise<void> {
  const schema = SERVICES[service];
  const db = await createTestDatabase();
  const admin = new pg.Client({ connectionString: adminUrlOn(db) });
  const first = mkdtempSync(join(tmpdir(), 'migrations-'));
  // Killed in the finally too: a failure while it waited (not seen inside the migration in time) left it running,
  // and the file waited for the runner's 20 min timeout.
  let launched: ReturnType<typeof launch> | undefined;
  try {
    for (const f of files.slice(0, k)) copyFileSync(join(repoRoot, 'services', service, 'migrations', f), join(first, f));
    const kit = new Database({ url: db.urls[service], schema, poolMax: 1, applicationName: 'migration-kill-test', metrics: new Metrics('migration-kill-test', '0') });
    assert.equal((await kit.migrate(first)).length, k);
    await kit.close();

    await admin.connect();
    await admin.query('BEGIN');
    await admin.query(`LOCK TABLE ${schema}.schema_migrations IN SHARE ROW EXCLUSIVE MODE`);
    const port = await freePort();
    const killed = launch(service, envOf(service, db, port));
    launched = killed;
    // Waiting for our lock means its migration's statements ran and its INSERT into schema_migrations waits.
    await until(`${service} to wait inside ${files[k]}`, 30_000, async () => {
      if (killed.child.exitCode !== null) assert.fail(`${service} exited: ${killed.output()}`);
      // Inside a transaction the activity view is read once and kept: asked afresh each time.
      await admin.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO%schema_migrations%'`, [db.roles[service].role]);
      return rows.length > 0;
    });
    killed.child.kill('SIGKILL');
    assert.equal(await killed.exited, 'SIGKILL');
    await admin.query('ROLLBACK');

    const again = launch(service, envOf(service, db, port));
    try {
      await until(`${service} to be ready after the kill inside ${files[k]}`, 60_000, async () => {
        if (again.child.exitCode !== null) assert.fail(`${service} did not start again after a kill inside ${files[k]}: ${again.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        await res?.arrayBuffer();
        return res?.status === 200;
      });
      const { rows } = await admin.query<{ name: string }>(`SELECT name FROM ${schema}.schema_migrations ORDER BY id`);
      assert.deepEqual(rows.map((r) => `${r.name}.sql`), files, `${service}: every migration applied once after a kill inside ${files[k]}`);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    launched?.child.kill('SIGKILL');
    await launched?.exited;
    await admin.end().catch(() => undefined);
    rmSync(first, { recursive: true, force: true });
    await db.drop();
  }
}

// Each kill is a fresh database, two starts of the service and a drop: about 5 s, 10 on a busy machine. The time
// allowed grows with the migrations (a fixed 300 s for all three services ran out at 33 of them under a full run).
const PER_MIGRATION_MS = 30_000;

describe('a service SIGKILLed inside a migration at start-up', () => {
  for (const service of Object.keys(SERVICES) as Service[]) {
    const files = readdirSync(join(repoRoot, 'services', service, 'migrations')).filter((f) => f.endsWith('.sql')).sort();
    it(`when ${service} is killed inside each of its migrations, then the next start applies them all and is ready`, { timeout: PER_MIGRATION_MS * files.length }, async () => {
      assert.ok(files.length >= 4, `${service} has ${files.length} migrations`);
      for (let k = 0; k < files.length; k++) await killInsideMigration(service, files, k);
      console.log(`# ${service}: killed inside each of its ${files.length} migrations; every next start was ready with all applied`);
    });
  }
});
