// The prunes (pruneInBatchesEvery: the user service's expired refresh tokens and registration keys, the product
// service's stock adjustment keys) as docs/configuration.md promises them: "at most 20 batches of 1,000 rows a pass",
// what is left waits for the next pass, and the pruned-rows counter (`user_refresh_tokens_pruned_total`,
// `user_registration_keys_pruned_total`, `product_stock_keys_pruned_total`) counts every row deleted, no more.
// A table of any size, and replicas deleting the same rows meanwhile, drive the batches; the interval is a mock timer.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import fc from 'fast-check';
import { MAX_TIMER_MS, Metrics, createServer, pruneInBatchesEvery } from '../src/index.js';

/** The rows a statement may delete and the passes a run may make, as docs/configuration.md says (and not more). */
const BATCH = 1000;
const BATCHES_PER_PASS = 20;
const INTERVAL_MS = 60_000;

/** Lets every promise of a pass settle: its batches resolve at once, so all of it runs before the next macrotask. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('pruneInBatchesEvery', () => {
  it('when a table holds any number of expired rows and other replicas delete some meanwhile, then each pass deletes in batches of at most 1,000, at most 20 of them, stops at a short one, and the counter moves by exactly the rows deleted', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Any size, and sizes at a batch's edge (999, 1,000, 1,001, 20,000...), where a pass decides to go on.
        fc.oneof(fc.integer({ min: 0, max: 65_000 }), fc.integer({ min: 0, max: 65 }).chain((k) => fc.integer({ min: Math.max(0, k * BATCH - 2), max: k * BATCH + 2 }))),
        // Per batch, rows another replica deleted just before it (replicas prune the same table at once).
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 80 }),
        async (rows, othersTake) => {
          mock.timers.enable({ apis: ['setInterval'] });
          const metrics = new Metrics('t', '0', { defaultMetrics: false });
          const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics, docs: false });
          try {
            const pruned = metrics.counter('t_rows_pruned_total', 'Rows the prune deleted.');
            let remaining = rows;
            let call = 0;
            const limits: number[] = [];
            const deleted: number[] = [];
            pruneInBatchesEvery(app, {
              task: 't_rows',
              intervalMs: INTERVAL_MS,
              pruned,
              what: 'rows',
              deleteBatch: async (limit) => {
                remaining -= Math.min(remaining, othersTake[call++] ?? 0);
                const n = Math.min(limit, remaining);
                remaining -= n;
                limits.push(limit);
                deleted.push(n);
                return n;
              },
            });
            const counted = async () => (await metrics.registry.getSingleMetric('t_rows_pruned_total')?.get())?.values[0]?.value ?? 0;
            assert.equal(deleted.length, 0, 'nothing deleted before the first interval');
            let total = 0;
            // Enough passes for the largest table: 20,000 rows a pass at most.
            for (let pass = 0; pass < Math.ceil(rows / (BATCH * BATCHES_PER_PASS)) + 1; pass++) {
              const from = deleted.length;
              const before = remaining;
              mock.timers.tick(INTERVAL_MS);
              await settle();
              const batches = deleted.slice(from);
              assert.ok(batches.length >= 1, `pass ${pass} made no statement`);
              assert.ok(batches.length <= BATCHES_PER_PASS, `pass ${pass}: ${batches.length} statements`);
              assert.ok(limits.slice(from).every((l) => l === BATCH), `limits ${limits.slice(from).join(',')}`);
              // It goes on only after a full batch, and ends at a short one or after 20.
              batches.slice(0, -1).forEach((n, i) => assert.equal(n, BATCH, `pass ${pass}, batch ${i}: ${n} rows and another batch followed`));
              assert.ok((batches.at(-1) ?? 0) < BATCH || batches.length === BATCHES_PER_PASS, `pass ${pass} stopped after a full batch: ${batches.join(',')}`);
              if (batches.length === BATCHES_PER_PASS && (batches.at(-1) ?? 0) === BATCH) assert.ok(before >= BATCH * BATCHES_PER_PASS, 'a full pass only with that many rows');
              total += batches.reduce((a, b) => a + b, 0);
              assert.equal(await counted(), total, `pass ${pass}: the counter says every row deleted so far`);
            }
            assert.equal(remaining, 0, `${remaining} rows left after every pass`);
            assert.equal(total, deleted.reduce((a, b) => a + b, 0));
          } finally {
            mock.timers.reset();
            await app.close();
          }
        },
      ),
      { numRuns: 60, examples: [[999, []], [1000, []], [20_000, []], [20_001, []]] },
    );
  });

  it('when an interval is longer than a timer keeps (2^31 - 1 ms, about 24.8 days) or no whole number of ms, then the prune refuses it, never running every millisecond', async () => {
    const metrics = new Metrics('t', '0', { defaultMetrics: false });
    const app = await createServer({ name: 't', prefix: '/t', version: '0', description: 't', logLevel: 'silent', readiness: async () => undefined, metrics, docs: false });
    try {
      const pruned = metrics.counter('t_rows_pruned_total', 'Rows the prune deleted.');
      fc.assert(
        fc.property(fc.oneof(fc.integer({ min: MAX_TIMER_MS + 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, -1, 1.5, Number.NaN, Infinity)), (intervalMs) => {
          let passes = 0;
          assert.throws(
            () => pruneInBatchesEvery(app, { task: 't_rows', intervalMs, pruned, what: 'rows', deleteBatch: async () => (passes++, 0) }),
            (err: unknown) => err instanceof RangeError && err.message === `t_rows: interval ${intervalMs} ms is not a whole number from 1 to ${MAX_TIMER_MS}`,
          );
          assert.equal(passes, 0);
        }),
      );
    } finally {
      await app.close();
    }
  });
});
