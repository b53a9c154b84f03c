import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';
import { Reconciler } from '../background/reconciler.js';
import type { OrderConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    reconciler: Reconciler;
  }
}

export default fp(
  async (app: App, { config }: { config: OrderConfig }) => {
    const reconciler = new Reconciler(app.orders, app.log, config.RECONCILER_INTERVAL_MS, config.AUDIT_INTERVAL_MS, {
      maxRepairs: config.AUDIT_MAX_REPAIRS,
      maxShare: config.AUDIT_MAX_REPAIR_SHARE,
    });
    app.decorate('reconciler', reconciler);
    if (config.RECONCILER_ENABLED) app.addHook('onReady', async () => reconciler.start());
    // preClose: the reconciler stops before the pool closes (onClose), whatever the hook order.
    app.addHook('preClose', () => reconciler.stop());
  },
  { name: 'reconciler', dependencies: ['orders'] },
);
