import { fileURLToPath } from 'node:url';
import { Authenticator, createDataService, jwksUrl, type App } from '@ecommerce/kit';
import type { OrderConfig } from './config.js';
import { pendingStats } from './orders.js';
import type { OrderDeps } from './place-order.js';
import { ProductClient } from './product-client.js';
import { Reconciler } from './reconciler.js';
import { orderRoutes } from './routes/orders.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The order service: orders, their state machine, reservations through the product service, the reconciler. */
export async function buildApp(config: OrderConfig): Promise<App> {
  const { app, db, metrics } = await createDataService({
    name: 'order',
    prefix: '/order',
    description: 'Orders: placement with idempotency keys, stock reservations through the product service, cancellation, and a reconciler for pending orders.',
    config,
    migrations: MIGRATIONS,
  });
  const products = new ProductClient(config, metrics);
  const deps: OrderDeps = {
    db,
    products,
    pendingDeadlineMs: config.PENDING_DEADLINE_MS,
    crashPoint: config.FAULT_CRASH_POINT,
    // Reservations are refused after 2/3 of the deadline, leaving a margin for clock skew.
    reservationWindowMs: Math.floor((config.PENDING_DEADLINE_MS * 2) / 3),
    metrics: {
      placed: metrics.counter('orders_placed_total', 'Order placement requests by result.', ['result'], ['confirmed', 'rejected', 'pending', 'replayed', 'not_found'].map((result) => ({ result }))),
      settled: metrics.counter('orders_settled_total', 'Pending orders settled by the reconciler, by result.', ['result'], [{ result: 'confirmed' }, { result: 'failed' }]),
      cancelled: metrics.counter('orders_cancelled_total', 'Orders cancelled.'),
      revenue: metrics.counter('orders_revenue_cents_total', 'Total of confirmed orders, in minor units.', ['currency'], [{ currency: 'USD' }]),
    },
  };
  // Read at scrape time from the database, so every replica reports the same truth.
  let stats: Promise<{ count: number; oldestAgeSeconds: number }> | null = null;
  const freshStats = () => (stats ??= pendingStats(db).finally(() => setTimeout(() => (stats = null), 1000)));
  metrics.gauge('orders_pending', 'Orders currently pending.', [], async function () {
    this.set((await freshStats()).count);
  });
  metrics.gauge('orders_pending_oldest_age_seconds', 'Age of the oldest pending order (0 when none).', [], async function () {
    this.set((await freshStats()).oldestAgeSeconds);
  });

  const auth = new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: jwksUrl(config.USER_SERVICE_URL) });
  orderRoutes(app, deps, auth);

  const reconciler = new Reconciler(deps, app.log, config.RECONCILER_INTERVAL_MS);
  app.decorate('reconciler', reconciler);
  if (config.RECONCILER_ENABLED) app.addHook('onReady', async () => reconciler.start());
  // preClose: the reconciler stops before the pool closes (onClose), whatever the hook order.
  app.addHook('preClose', () => reconciler.stop());
  app.addHook('onClose', () => products.close());
  return app;
}
