// What db_client_operation_duration_seconds records for the statements a Database runs: a named statement once, with
// its operation and, when it fails, the class of its SQLSTATE (the first two characters) as error_type; a
// transaction's own BEGIN, COMMIT and ROLLBACK (unnamed) not at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '@ecommerce/test-support';
import { Database, Metrics } from '../src/index.js';

let testDb: TestDatabase;
let db: Database;
let metrics: Metrics;

before(async () => {
  testDb = await createTestDatabase();
  metrics = new Metrics('t', '0', { defaultMetrics: false });
  db = new Database({ url: testDb.urls.product, schema: 'catalog', poolMax: 1, applicationName: 'db-metrics-test', metrics });
});
after(async () => {
  await db?.close();
  await testDb?.drop();
});

/** The histogram's counts, keyed by `name operation error_type`. */
async function counts(): Promise<Map<string, number>> {
  const { values } = await metrics.dbOperationDuration.get();
  const out = new Map<string, number>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_count')) continue;
    const l = v.labels as Record<string, string>;
    out.set(`${l['db_query_name']} ${l['db_operation_name']} ${l['error_type']}`, v.value);
  }
  return out;
}

// Statements that fail with a known SQLSTATE: division by zero (22012), an undefined table (42P01).
const FAILING = [
  { text: 'SELECT 1 / $1::int AS x', values: [0], errorType: '22' },
  { text: 'SELECT * FROM no_such_table_for_metrics', values: [], errorType: '42' },
];

describe('db_client_operation_duration_seconds', () => {
  it('when named statements succeed or fail, alone or in a transaction, then each is counted once with its SQLSTATE class, and BEGIN/COMMIT/ROLLBACK never', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ inTx: fc.boolean(), fails: fc.option(fc.constantFrom(...FAILING), { nil: undefined }) }), { minLength: 1, maxLength: 6 }),
        async (steps) => {
          metrics.dbOperationDuration.reset();
          const expected = new Map<string, number>();
          const add = (key: string) => expected.set(key, (expected.get(key) ?? 0) + 1);
          for (const step of steps) {
            const name = step.fails ? `db_metrics_fail_${step.fails.errorType}` : 'db_metrics_ok';
            const text = step.fails ? step.fails.text : 'SELECT $1::int AS x';
            const values = step.fails ? step.fails.values : [1];
            const run = step.inTx ? db.tx((q) => q.query(name, text, values)) : db.query(name, text, values);
            if (step.fails) await assert.rejects(run);
            else assert.equal((await run).rows[0]?.['x'], 1);
            add(`${name} SELECT ${step.fails ? step.fails.errorType : ''}`);
          }
          assert.deepEqual(await counts(), expected);
        },
      ),
      { numRuns: 15 },
    );
  });
});
