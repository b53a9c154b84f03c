import { USER_JWKS_PATH, USER_ROLES } from '@ecommerce/contracts';
import { authentication, createDataService, type App } from '@ecommerce/kit';
import type { OrderConfig } from './config.js';
import orderMetrics from './plugins/order-metrics.js';
import orders from './plugins/orders.js';
import pendingStats from './plugins/pending-stats.js';
import productClient from './plugins/product-client.js';
import reconciler from './plugins/reconciler.js';
import customerRoutes from './routes/customer/index.js';

/** The order service: orders, their state machine, reservations through the product service, the reconciler. */
export async function buildApp(config: OrderConfig): Promise<App> {
  const { app } = await createDataService({
    name: 'order',
    prefix: '/order',
    description: 'Orders: placement with idempotency keys, stock reservations through the product service, cancellation, and a reconciler for pending orders.',
    config,
    migrations: new URL('../../migrations', import.meta.url),
    setup: async (app, db) => {
      // Dependencies (each a decoration; see plugins/), then the background work, then the routes by audience.
      const jwks = new URL(USER_JWKS_PATH, config.USER_SERVICE_URL);
      await app.register(authentication, { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks, roles: USER_ROLES });
      await app.register(orderMetrics);
      await app.register(productClient, { config });
      await app.register(orders, { db, config });
      await app.register(pendingStats, { config });
      await app.register(reconciler, { config });
      await app.register(customerRoutes);
    },
  });
  return app;
}
