import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { PendingStats } from '../background/pending-stats.js';
import type { OrderConfig } from '../config.js';

/** The pending-order gauges: first refresh when the app is ready, none left running once it closes. */
export default fp(
  async (app: App, { config }: { config: OrderConfig }) => {
    const stats = new PendingStats(app.orders.repository, app.metrics, app.log, config.STATS_INTERVAL_MS);
    app.addHook('onReady', async () => stats.start());
    app.addHook('preClose', () => stats.stop());
  },
  { name: 'pending-stats', dependencies: ['orders'] },
);
