// Readiness of a data service under load and behind locks: /readyz says whether the database answers this replica,
// not whether its pool has a connection free. A ping that waited in the pool's queue behind the requests answered 503
// while they were being served, and Kubernetes took the busiest replica out of its Service.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { adminUrlOn, createTestDatabase, heldLocks, http, listenOnLoopback, sql, timed, type TestDatabase } from '@ecommerce/test-support';
import { Database, Metrics, createDataService, createServer, errorCode, Type, type App } from '../src/index.js';

let db: TestDatabase;
let migrations: string;
before(async () => {
  db = await createTestDatabase();
  migrations = mkdtempSync(join(tmpdir(), 'readiness-migrations-'));
  // The table whose row is held locked; there before any service migrates (the interleaving test has none).
  const gate = 'CREATE TABLE IF NOT EXISTS gate (id integer PRIMARY KEY, n integer NOT NULL);\nINSERT INTO gate VALUES (1, 0) ON CONFLICT DO NOTHING;\n';
  writeFileSync(join(migrations, '001_gate.sql'), `-- Up Migration\n${gate}`);
  await sql(db.urls.product, `SET search_path = catalog; ${gate}`);
});
after(async () => {
  await db?.drop();
});

/** A data service on port 0 with a pool of `poolMax`, a route that sleeps `ms` in the database and one that writes the locked row. */
async function startService(poolMax: number): Promise<{ app: App; base: string; close(): Promise<void> }> {
  const { app } = await createDataService({
    name: 't',
    prefix: '/t',
    description: 't',
    config: { SERVICE_VERSION: '0', LOG_LEVEL: 'silent', FAULT_INJECTION: 'disabled', DATABASE_URL: db.urls.product, DB_SCHEMA: 'catalog', DB_POOL_MAX: poolMax },
    migrations,
    setup: async (app, database) => {
      app.get('/t/sleep/:ms', { schema: { params: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 5000 }) }) } }, async (request) => {
        await database.query('t_sleep', 'SELECT pg_sleep($1::float8 / 1000)', [request.params.ms]);
        return { ok: true };
      });
      app.post('/t/gate', async () => {
        await database.query('t_gate', 'UPDATE gate SET n = n + 1 WHERE id = 1');
        return { ok: true };
      });
    },
  });
  const base = await listenOnLoopback(app);
  return { app, base, close: () => app.close() };
}

/** GET /readyz: its status and how long it took. */
async function readyz(base: string): Promise<{ status: number; ms: number }> {
  const { res, ms } = await timed(() => http(base, 'GET', '/readyz'));
  return { status: res.status, ms };
}

const blockConnections = async (allow: boolean) => {
  await sql(db.adminUrl, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS ${allow}`);
  // pg_terminate_backend(pid, timeout) waits for each backend to exit (PostgreSQL 14+).
  if (!allow) await sql(db.adminUrl, 'SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
};

describe('readiness of a data service', () => {
  it('when every pooled connection is busy and requests wait in its queue longer than the readiness timeout, but keep being answered, then /readyz is 200 at once (a ping queued behind them was 503)', { timeout: 90_000 }, async () => {
    // Pool size, statement length and load vary; each keeps the pool's queue about 2.6-3 s deep (past the 2 s
    // readiness timeout, within the pool's 5 s wait for a connection), every request answered.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 150, max: 400 }), async (poolMax, ms) => {
        const service = await startService(poolMax);
        const workers = poolMax + Math.ceil((2_700 * poolMax) / ms);
        const statuses: number[] = [];
        let loading = true;
        const load = Promise.all(
          Array.from({ length: workers }, async () => {
            while (loading) statuses.push((await http(service.base, 'GET', `/t/sleep/${ms}`)).status);
          }),
        );
        try {
          await sleep(1_000);
          const probes: { status: number; ms: number }[] = [];
          for (let i = 0; i < 3; i++) {
            probes.push(await readyz(service.base));
            await sleep(400);
          }
          const served = statuses.length;
          loading = false;
          await load;
          assert.ok(served > 0 && statuses.every((s) => s === 200), `requests: ${statuses.length}, not 200: ${statuses.filter((s) => s !== 200).join(' ')}`);
          assert.deepEqual(probes.map((p) => p.status), [200, 200, 200], `pool ${poolMax}, ${ms} ms x ${workers}: ${JSON.stringify(probes)}`);
          assert.ok(probes.every((p) => p.ms < 1_000), `probes waited: ${JSON.stringify(probes)}`);
        } finally {
          loading = false;
          await load;
          await service.close();
        }
      }),
      { numRuns: 3 },
    );
  });

  it('when every pooled connection waits for a row lock another session holds, longer than the evidence window, then /readyz is 200 (the database answers; the other replicas wait for the same lock), and the writes finish once it is released', { timeout: 30_000 }, async () => {
    const service = await startService(2);
    const lock = await heldLocks(db.urls.product, 'SELECT * FROM catalog.gate WHERE id = 1 FOR UPDATE');
    try {
      const writes = Array.from({ length: 4 }, () => http(service.base, 'POST', '/t/gate'));
      await sleep(2_500);
      const probe = await readyz(service.base);
      assert.equal(probe.status, 200, JSON.stringify(probe));
      assert.ok(probe.ms < 1_000, `the probe waited ${Math.round(probe.ms)} ms`);
      await lock.end();
      assert.deepEqual((await Promise.all(writes)).map((r) => r.status), [200, 200, 200, 200]);
    } finally {
      await lock.end().catch(() => undefined);
      await service.close();
    }
  });

  it('when every pooled connection is stuck past the window at the role\'s CONNECTION LIMIT, then /readyz is 503 (the connection of its own is refused too: 53300), and 200 once the lock is gone', { timeout: 30_000 }, async () => {
    const service = await startService(2);
    const role = db.roles.product.role;
    // The lock's holder is the admin, in the test's database: not one of the role's connections.
    const lock = await heldLocks(adminUrlOn(db), 'SELECT * FROM catalog.gate WHERE id = 1 FOR UPDATE');
    try {
      const writes = Array.from({ length: 2 }, () => http(service.base, 'POST', '/t/gate'));
      await sleep(300);
      await sql(db.adminUrl, `ALTER ROLE ${role} CONNECTION LIMIT 2`);
      await sleep(2_300);
      assert.equal((await readyz(service.base)).status, 503);
      await lock.end();
      assert.deepEqual((await Promise.all(writes)).map((r) => r.status), [200, 200]);
      assert.equal((await readyz(service.base)).status, 200);
    } finally {
      await lock.end().catch(() => undefined);
      await sql(db.adminUrl, `ALTER ROLE ${role} CONNECTION LIMIT -1`);
      await service.close();
    }
  });

  it('when the database goes away while the pool is busy and its last answer is recent, then /readyz is 503 at once, and 200 again once it is back', { timeout: 30_000 }, async () => {
    const service = await startService(2);
    try {
      assert.equal((await readyz(service.base)).status, 200);
      // Both connections busy, a statement answered a moment ago: the evidence a saturated pool is ready on.
      assert.equal((await http(service.base, 'GET', '/t/sleep/10')).status, 200);
      const busy = [http(service.base, 'GET', '/t/sleep/3000'), http(service.base, 'GET', '/t/sleep/3000')];
      await sleep(100);
      await blockConnections(false);
      const probe = await readyz(service.base);
      assert.equal(probe.status, 503, JSON.stringify(probe));
      assert.deepEqual((await Promise.all(busy)).map((r) => r.status), [503, 503]);
      assert.equal((await http(service.base, 'GET', '/t/sleep/1')).status, 503);
      assert.equal((await readyz(service.base)).status, 503);
      await blockConnections(true);
      assert.equal((await readyz(service.base)).status, 200);
      assert.equal((await http(service.base, 'GET', '/t/sleep/1')).status, 200);
    } finally {
      await blockConnections(true);
      await service.close();
    }
  });

  it('when the server accepts connections but never answers (hung, or a network that drops everything), then /readyz is 503 within the readiness timeout', { timeout: 20_000 }, async () => {
    const sockets = new Set<Socket>();
    const blackhole = createTcpServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    const hung = new Database({ url: `postgres://nobody@127.0.0.1:${port}/nothing`, schema: 'catalog', poolMax: 2, applicationName: 'readiness-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: () => hung.ready(), metrics: new Metrics('t', '0', { defaultMetrics: false }), docs: false });
    try {
      const base = await listenOnLoopback(app);
      for (let i = 0; i < 2; i++) {
        const probe = await readyz(base);
        assert.equal(probe.status, 503, JSON.stringify(probe));
        assert.ok(probe.ms < 3_000, `took ${Math.round(probe.ms)} ms`);
      }
    } finally {
      await app.close();
      await hung.close().catch(() => undefined);
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  });

  it('when the database is closed to new connections and a query is refused one while the pool\'s connection is busy, then ready() rejects at once, though the last answer is recent (the refusal is the server refusing, as a ping\'s)', { timeout: 30_000 }, async () => {
    const database = new Database({ url: db.urls.product, schema: 'catalog', poolMax: 2, applicationName: 'readiness-test', metrics: new Metrics('t', '0', { defaultMetrics: false }), answerEvidenceMs: 20_000 });
    try {
      await database.query('t_one', 'SELECT 1');
      const busy = database.query('t_sleep', 'SELECT pg_sleep($1::float8 / 1000)', [1500]);
      await sleep(100);
      // Closed without ending the sessions open: the busy connection stays, a new one is refused (55000).
      await sql(db.adminUrl, `ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await assert.rejects(database.query('t_one', 'SELECT 1'), (err) => errorCode(err) === '08004');
      await assert.rejects(database.ready());
      await busy;
    } finally {
      await blockConnections(true);
      await database.close();
    }
  });

  it('when busy pools, slow statements, stuck statements, the database going away and coming back interleave, then ready() resolves exactly while the database takes connections', { timeout: 120_000 }, async () => {
    type Step = { kind: 'query' } | { kind: 'busy'; ms: number } | { kind: 'stuck' } | { kind: 'down' } | { kind: 'up' } | { kind: 'pause'; ms: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant<Step>({ kind: 'query' }),
      fc.integer({ min: 100, max: 700 }).map<Step>((ms) => ({ kind: 'busy', ms })),
      fc.constant<Step>({ kind: 'stuck' }),
      fc.constant<Step>({ kind: 'down' }),
      fc.constant<Step>({ kind: 'up' }),
      fc.integer({ min: 50, max: 450 }).map<Step>((ms) => ({ kind: 'pause', ms })),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(step, { minLength: 2, maxLength: 7 }), async (poolMax, steps) => {
        // A short evidence window so that statements outlive it within a short run.
        const database = new Database({ url: db.urls.product, schema: 'catalog', poolMax, applicationName: 'readiness-test', metrics: new Metrics('t', '0', { defaultMetrics: false }), answerEvidenceMs: 300 });
        const inFlight: Promise<unknown>[] = [];
        let lock: { end(): Promise<void> } | undefined;
        let up = true;
        const ready = async () => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([database.ready(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2_000)))]);
            return true;
          } catch {
            return false;
          } finally {
            clearTimeout(timer);
          }
        };
        try {
          for (const s of steps) {
            if (s.kind === 'query') {
              // Behind busy or stuck connections it waits in the queue: not for longer than a moment here.
              const q = database.query('t_one', 'SELECT 1').catch(() => undefined);
              inFlight.push(q);
              await Promise.race([q, sleep(300)]);
            }
            else if (s.kind === 'busy') for (let i = 0; i < poolMax; i++) inFlight.push(database.query('t_sleep', 'SELECT pg_sleep($1::float8 / 1000)', [s.ms]).catch(() => undefined));
            else if (s.kind === 'stuck') {
              if (up) lock ??= await heldLocks(db.urls.product, 'SELECT * FROM catalog.gate WHERE id = 1 FOR UPDATE');
              for (let i = 0; i < poolMax; i++) inFlight.push(database.query('t_gate', 'UPDATE gate SET n = n + 1 WHERE id = 1').catch(() => undefined));
            } else if (s.kind === 'down') {
              // The lock's holder (a client without an error listener) goes first, not ended by the server.
              await lock?.end().catch(() => undefined);
              lock = undefined;
              await blockConnections(false);
              up = false;
            } else if (s.kind === 'up') {
              await blockConnections(true);
              up = true;
            } else await sleep(s.ms);
            // Failures in flight are noticed within moments of the database going away (their connections end).
            if (!up) await sleep(50);
            assert.equal(await ready(), up, `after ${JSON.stringify(s)} in ${JSON.stringify(steps)} (pool ${poolMax})`);
          }
        } finally {
          await blockConnections(true);
          await lock?.end().catch(() => undefined);
          await Promise.all(inFlight);
          await database.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});
