import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { pruneStockKeysEvery } from '../background/stock-key-prune.js';

/** Stock adjustments' Idempotency-Keys past their retention are deleted now and then (background/stock-key-prune.ts). */
export default fp(
  async (app: App, { retentionHours, intervalMs }: { retentionHours: number; intervalMs: number }) => {
    const pruned = app.metrics.counter('product_stock_keys_pruned_total', 'Stock adjustment Idempotency-Keys deleted past their retention.');
    pruneStockKeysEvery(app, intervalMs, retentionHours, pruned);
  },
  { name: 'stock-key-prune', dependencies: ['repositories'] },
);
