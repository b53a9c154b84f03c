import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { pruneExpiredSessionsEvery } from '../background/prune-sessions.js';

/** Expired refresh tokens are deleted now and then (background/prune-sessions.ts), counted in a metric. */
export default fp(
  async (app: App, { intervalMs }: { intervalMs: number }) => {
    const pruned = app.metrics.counter('user_refresh_tokens_pruned_total', 'Expired refresh tokens deleted by the prune.');
    pruneExpiredSessionsEvery(app, intervalMs, pruned);
  },
  { name: 'session-prune', dependencies: ['repositories'] },
);
