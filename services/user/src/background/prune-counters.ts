import type { App } from '@ecommerce/kit';

/** Counters of finished windows are deleted now and then (any replica may do it; it is idempotent). */
export function pruneCountersEvery(app: App, intervalMs: number, counters: { prune(): Promise<void> }[]): void {
  const prune = setInterval(() => {
    Promise.all(counters.map((c) => c.prune())).catch((err: unknown) => app.log.warn({ err }, 'pruning throttle counters failed'));
  }, intervalMs);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));
}
