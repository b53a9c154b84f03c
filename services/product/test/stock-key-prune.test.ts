// Stock adjustment keys past STOCK_KEY_RETENTION_HOURS are pruned in batches found by their age's index
// (background/stock-key-prune.ts, migration 015): before, each pass was one DELETE that read the whole table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, MAX_TIMER_MS, uuidv7 } from '@ecommerce/kit';
import { loadProductConfig } from '../src/config.js';
import { http, metricValue, sql, waitFor } from '@ecommerce/test-support';
import { startProductService } from './harness.js';
import { startStack, type Stack } from './stack.js';

const FRESH = 48_500;
const OLD = 1_500; // more than one batch of 1,000

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack?.close());

interface TableStats {
  seq_scan: number;
  n_tup_del: number;
}
const statsOf = async () =>
  (await sql<TableStats>(stack.db.urls.product, `SELECT seq_scan::int, n_tup_del::int FROM pg_stat_user_tables WHERE relid = 'catalog.stock_adjustments'::regclass`))[0]!;

describe('pruning stock adjustment keys', () => {
  it('when 50,000 keys are stored and 1,500 are past their retention, then a pass deletes those 1,500 without reading the table (no seq scan), keeps every younger key, and product_stock_keys_pruned_total counts each key deleted', async () => {
    const old = uuidv7();
    const fresh = uuidv7();
    await sql(stack.db.urls.product,
      `INSERT INTO catalog.stock_adjustments (product_id, idempotency_key, delta, created_at)
       SELECT $1::uuid, 'old-' || i, 1, now() - interval '25 hours' - i * interval '1 second' FROM generate_series(1, $2::int) i
       UNION ALL
       SELECT $3::uuid, 'fresh-' || i, 1, now() - i * interval '1 second' FROM generate_series(1, $4::int) i`,
      [old, OLD, fresh, FRESH]);
    await sql(stack.db.urls.product, 'ANALYZE catalog.stock_adjustments');
    // Counters of a connection reach pg_stat_user_tables when it goes idle or ends: wait for the inserts' to settle.
    await waitFor('the insert counted', async () => (await sql<{ n: number }>(stack.db.urls.product, `SELECT n_tup_ins::int AS n FROM pg_stat_user_tables WHERE relid = 'catalog.stock_adjustments'::regclass`))[0]!.n >= OLD + FRESH);
    const before = await statsOf();

    const pruning = await startProductService(stack.db.urls.product, stack.users.base, { STOCK_KEY_PRUNE_INTERVAL_MS: '1000', STOCK_KEY_RETENTION_HOURS: '24' });
    try {
      await waitFor('the old keys deleted', async () => (await statsOf()).n_tup_del - before.n_tup_del >= OLD, 15_000);
      // Each pass is counted for the housekeeping alerts (deploy/monitoring/rules/database.yml), against the interval configured here.
      const metrics = async () => (await http(pruning.base, 'GET', '/metrics')).text;
      await waitFor('the pass counted ok', async () => metricValue(await metrics(), 'housekeeping_passes_total', ['task="stock_keys"', 'result="ok"']) >= 1, 5000);
      // docs/configuration.md: product_stock_keys_pruned_total is the keys the prune deleted, these 1,500 and no other
      // (this process started at 0; a pass after them deletes nothing and adds nothing).
      await waitFor('the deleted keys counted', async () => metricValue(await metrics(), 'product_stock_keys_pruned_total') >= OLD, 5000).catch(() => undefined);
      const passes = metricValue(await metrics(), 'housekeeping_passes_total', ['task="stock_keys"', 'result="ok"']);
      await waitFor('one more pass', async () => metricValue(await metrics(), 'housekeeping_passes_total', ['task="stock_keys"', 'result="ok"']) > passes, 5000);
      const text = await metrics();
      assert.equal(metricValue(text, 'product_stock_keys_pruned_total'), OLD, 'product_stock_keys_pruned_total moved by the keys deleted');
      assert.equal(metricValue(text, 'housekeeping_interval_seconds', ['task="stock_keys"']), 1);
      assert.ok(Math.abs(metricValue(text, 'housekeeping_last_success_timestamp_seconds', ['task="stock_keys"']) - Date.now() / 1000) < 5);
    } finally {
      await pruning.close();
    }
    const afterPass = await statsOf();
    assert.equal(afterPass.seq_scan - before.seq_scan, 0, `the prune read the whole table ${afterPass.seq_scan - before.seq_scan} time(s) (seq scan over ${OLD + FRESH} rows)`);
    const left = await sql<{ old: number; fresh: number }>(stack.db.urls.product,
      `SELECT count(*) FILTER (WHERE product_id = $1)::int AS old, count(*) FILTER (WHERE product_id = $2)::int AS fresh FROM catalog.stock_adjustments`, [old, fresh]);
    assert.deepEqual(left[0], { old: 0, fresh: FRESH });
  });
});

describe('STOCK_KEY_PRUNE_INTERVAL_MS', () => {
  it('when an operator gives any whole number of ms, then it is refused naming it, or it is one a timer keeps (at most 2^31 - 1 ms): never a prune every millisecond', () => {
    // 3000000000 (about 35 days) was taken, and Node ran the prune every 1 ms: 2,295 passes in 3 s at half a core.
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (ms) => {
        let interval: number;
        try {
          interval = loadProductConfig({ DATABASE_URL: 'postgres://product@127.0.0.1/db', STOCK_KEY_PRUNE_INTERVAL_MS: String(ms) }).STOCK_KEY_PRUNE_INTERVAL_MS;
        } catch (err) {
          assert.ok(err instanceof ConfigError);
          assert.match(err.problems.join('\n'), new RegExp(`^STOCK_KEY_PRUNE_INTERVAL_MS: expected a whole number from 1000 to ${MAX_TIMER_MS} \\(got "`));
          return;
        }
        assert.equal(interval, ms);
        assert.ok(interval >= 1000 && interval <= MAX_TIMER_MS, String(interval));
      }),
      { examples: [[3_000_000_000], [MAX_TIMER_MS], [MAX_TIMER_MS + 1]] },
    );
  });
});
