import { pruneInBatchesEvery, type App, type Counter } from '@ecommerce/kit';

/**
 * A stock adjustment's Idempotency-Key is remembered for STOCK_KEY_RETENTION_HOURS (24), long enough for any
 * client's retry of a lost answer, then deleted, so stock_adjustments does not grow forever. Every replica prunes
 * now and then (a DELETE by age: idempotent), in the kit's short batches (batched-prune.ts) found by the created_at
 * index, so no pass holds many rows or scans the table.
 */
export function pruneStockKeysEvery(app: App, intervalMs: number, retentionHours: number, pruned: Counter): void {
  pruneInBatchesEvery(app, {
    deleteBatch: (limit) => app.productRepository.pruneAdjustmentKeys(retentionHours, limit),
    intervalMs,
    task: 'stock_keys',
    pruned,
    what: 'stock adjustment keys',
    logFields: { retentionHours },
  });
}
