import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Database, Metrics, createServer } from '../src/index.js';
import { assertProblem, createTestDatabase, http, listenOnLoopback, type TestDatabase } from '@ecommerce/test-support';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

describe('server factory', () => {
  it('when a handler throws an unexpected error, then 500 problem+json without internals, quoting the request id', async () => {
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    app.get('/t/boom', async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 at SELECT * FROM secrets');
    });
    const base = await listenOnLoopback(app);
    try {
      const res = await http(base, 'GET', '/t/boom', { headers: { 'x-request-id': 'boom-1' } });
      const p = assertProblem(res, 500, 'internal-error');
      assert.match(p.detail, /boom-1/);
      assert.doesNotMatch(res.text, /ECONNREFUSED|10\.0\.0\.7|secrets/);
    } finally {
      await app.close();
    }
  });
});

describe('migrations', () => {
  it('when three replicas migrate one schema at the same time, then each migration runs exactly once and all succeed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, '001_first.sql'), '-- Up Migration\nCREATE TABLE things (id integer PRIMARY KEY);\n');
    // pg_sleep widens the window in which a second runner would race without the lock
    writeFileSync(join(dir, '002_second.sql'), '-- Up Migration\nSELECT pg_sleep(0.3);\nALTER TABLE things ADD COLUMN name text;\n');
    const replicas = [1, 2, 3].map(() => new Database({ url: db.urls.product, schema: 'catalog', poolMax: 2, applicationName: 'migrate-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) }));
    try {
      const applied = await Promise.all(replicas.map((r) => r.migrate(dir)));
      assert.deepEqual(applied.flat().sort(), ['001_first', '002_second']);
      const c = new pg.Client({ connectionString: db.urls.product });
      await c.connect();
      const rows = await c.query<{ name: string }>('SELECT name FROM catalog.schema_migrations ORDER BY id');
      await c.end();
      assert.deepEqual(rows.rows.map((r) => r.name), ['001_first', '002_second']);
      // a restart finds nothing to do
      assert.deepEqual(await replicas[0]!.migrate(dir), []);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('when a service role reaches into another service schema, then PostgreSQL refuses', async () => {
    const user = new pg.Client({ connectionString: db.urls.user });
    await user.connect();
    try {
      await assert.rejects(user.query('CREATE TABLE catalog.intruder (id int)'), /permission denied/);
      await assert.rejects(user.query('SELECT * FROM orders.orders'), /permission denied|does not exist/);
    } finally {
      await user.end();
    }
  });
});
