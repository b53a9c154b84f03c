import { fileURLToPath } from 'node:url';
import { Authenticator, Database, Metrics, createServer, jwksUrl, type App } from '@ecommerce/kit';
import type { OrderConfig } from './config.js';
import { pendingStats } from './orders.js';
import type { OrderDeps } from './place-order.js';
import { ProductClient } from './product-client.js';
import { Reconciler } from './reconciler.js';
import { orderRoutes } from './routes/orders.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The order service: orders, their state machine, reservations through the product service, the reconciler. */
export async function buildApp(config: OrderConfig): Promise<App> {
  const metrics = new Metrics('order', config.SERVICE_VERSION);
  const db = new Database({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: config.DB_POOL_MAX, applicationName: 'order-service', metrics });
  const products = new ProductClient(config, metrics);
  const app = await createServer({
    name: 'order',
    prefix: '/order',
    version: config.SERVICE_VERSION,
    description: 'Orders: placement with idempotency keys, stock reservations through the product service, cancellation, and a reconciler for pending orders.',
    logLevel: config.LOG_LEVEL,
    readiness: () => db.ping(),
    faultInjection: config.FAULT_INJECTION === 'enabled',
    metrics,
  });
  try {
    await db.migrate(MIGRATIONS);
  } catch (err) {
    await db.close();
    await app.close();
    throw err;
  }
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
  app.addHook('onClose', async () => {
    await reconciler.stop();
    await products.close();
    await db.close();
  });
  return app;
}
