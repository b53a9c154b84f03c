import type { App, Counter } from '@ecommerce/kit';

/** Keys one DELETE takes; at most PRUNE_BATCHES_PER_PASS of them a pass (20,000), the rest wait for the next. */
const PRUNE_BATCH = 1000;
const PRUNE_BATCHES_PER_PASS = 20;

/**
 * A stock adjustment's Idempotency-Key is remembered for STOCK_KEY_RETENTION_HOURS (24), long enough for any
 * client's retry of a lost answer, then deleted, so stock_adjustments does not grow forever. Every replica prunes
 * now and then (a DELETE by age: idempotent, and replicas pruning at once only find fewer rows), in short batches
 * found by the created_at index, so no pass holds many rows or scans the table.
 */
export function pruneStockKeysEvery(app: App, intervalMs: number, retentionHours: number, pruned: Counter): void {
  let running = false;
  const prune = async () => {
    if (running) return; // a slow pass is never overlapped by the next
    running = true;
    let removed = 0;
    try {
      for (let i = 0; i < PRUNE_BATCHES_PER_PASS; i++) {
        const n = await app.productRepository.pruneAdjustmentKeys(retentionHours, PRUNE_BATCH);
        removed += n;
        pruned.inc(n);
        if (n < PRUNE_BATCH) break;
      }
    } finally {
      running = false;
    }
    if (removed) app.log.info({ removed, retentionHours }, 'stock adjustment keys pruned');
  };
  const timer = setInterval(() => void prune().catch((err: unknown) => app.log.warn({ err }, 'pruning stock adjustment keys failed')), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
