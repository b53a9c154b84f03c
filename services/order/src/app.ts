import { fileURLToPath } from 'node:url';
import { Authenticator, createDataService, jwksUrl, type App } from '@ecommerce/kit';
import type { OrderConfig } from './config.js';
import { pendingStats } from './data/order-repository.js';
import type { OrderDeps } from './use-cases/place-order.js';
import { ProductClient } from './clients/product-client.js';
import { Reconciler } from './background/reconciler.js';
import { orderRoutes } from './routes/customer/orders.js';

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
    // One reservation call with its two retries (and their backoff), plus a margin.
    driveLeaseMs: config.RESERVATION_TIMEOUT_MS * 3 + 1_000,
    limits: { maxQuantityPerProduct: config.MAX_QUANTITY_PER_LINE, maxUnitsPerHour: config.MAX_UNITS_PER_CUSTOMER_PER_HOUR },
    metrics: {
      placed: metrics.counter('orders_placed_total', 'Order placement requests by result.', ['result'], ['confirmed', 'rejected', 'failed', 'pending', 'replayed', 'not_found'].map((result) => ({ result }))),
      settled: metrics.counter('orders_settled_total', 'Pending orders settled by the reconciler, by result.', ['result'], [{ result: 'confirmed' }, { result: 'rejected' }, { result: 'failed' }]),
      cancelled: metrics.counter('orders_cancelled_total', 'Orders cancelled.'),
      revenue: metrics.counter('orders_revenue_cents_total', 'Total of confirmed orders, in minor units.', ['currency'], [{ currency: 'USD' }]),
      repairs: metrics.counter(
        'orders_repairs_total',
        'Repairs by the reconciler: cancels it finished after a crash, and drift its audit found between orders and reservations.',
        ['kind'],
        ['cancel_finished', 'reservation_without_order', 'order_without_reservation'].map((kind) => ({ kind })),
      ),
    },
  };
  // Refreshed in the background, so a scrape never waits on (or fails with) the database: a database
  // outage must not turn into "order service down". The last success time says how fresh the figures are.
  const stats = { count: 0, oldestAgeSeconds: 0, lastSuccess: 0 };
  metrics.gauge('orders_pending', 'Orders currently pending (refreshed every STATS_INTERVAL_MS).', [], function () {
    this.set(stats.count);
  });
  metrics.gauge('orders_pending_oldest_age_seconds', 'Age of the oldest pending order (0 when none; refreshed every STATS_INTERVAL_MS).', [], function () {
    this.set(stats.oldestAgeSeconds);
  });
  metrics.gauge('orders_stats_last_success_timestamp_seconds', 'Unix time of the last successful refresh of the pending-order gauges (0: none yet).', [], function () {
    this.set(stats.lastSuccess);
  });
  let statsTimer: NodeJS.Timeout | null = null;
  let refreshing: Promise<void> | null = null;
  const refresh = () => {
    refreshing = pendingStats(db)
      .then((s) => Object.assign(stats, s, { lastSuccess: Date.now() / 1000 }))
      .catch((err) => app.log.warn({ err }, 'pending-order stats refresh failed; the gauges keep their last values'))
      .then(() => {
        refreshing = null;
        statsTimer = setTimeout(refresh, config.STATS_INTERVAL_MS);
        statsTimer.unref();
      });
  };
  app.addHook('onReady', async () => refresh());
  app.addHook('preClose', async () => {
    if (statsTimer) clearTimeout(statsTimer);
    await refreshing;
    if (statsTimer) clearTimeout(statsTimer);
  });

  const auth = new Authenticator({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: jwksUrl(config.USER_SERVICE_URL) });
  orderRoutes(app, deps, auth);

  const reconciler = new Reconciler(deps, app.log, config.RECONCILER_INTERVAL_MS, config.AUDIT_INTERVAL_MS);
  app.decorate('reconciler', reconciler);
  if (config.RECONCILER_ENABLED) app.addHook('onReady', async () => reconciler.start());
  // preClose: the reconciler stops before the pool closes (onClose), whatever the hook order.
  app.addHook('preClose', () => reconciler.stop());
  app.addHook('onClose', () => products.close());
  return app;
}
