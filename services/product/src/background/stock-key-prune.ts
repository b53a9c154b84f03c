import type { App } from '@ecommerce/kit';

/**
 * A stock adjustment's Idempotency-Key is remembered for STOCK_KEY_RETENTION_HOURS (24), long enough for any
 * client's retry of a lost answer, then deleted, so stock_adjustments does not grow forever. Every replica prunes
 * now and then (a DELETE by age: idempotent, and replicas pruning at once only find fewer rows).
 */
export function pruneStockKeysEvery(app: App, intervalMs: number, retentionHours: number): void {
  const prune = async () => {
    const removed = await app.productRepository.pruneAdjustmentKeys(retentionHours);
    if (removed) app.log.info({ removed, retentionHours }, 'stock adjustment keys pruned');
  };
  const timer = setInterval(() => void prune().catch((err: unknown) => app.log.warn({ err }, 'pruning stock adjustment keys failed')), intervalMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
