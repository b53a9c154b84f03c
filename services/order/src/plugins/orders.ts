import fp from 'fastify-plugin';
import type { App, Database } from '@ecommerce/kit';
import type { OrderConfig } from '../config.js';
import { OrderRepository } from '../data/order-repository.js';
import { withCrashPoint } from '../fault-injection/crash-points.js';
import type { OrderDeps } from '../use-cases/order-deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** What the order use cases work with: the repository, the product client, the counters and the policy. */
    orders: OrderDeps;
  }
}

export default fp(
  async (app: App, { db, config }: { db: Database; config: OrderConfig }) => {
    const deps: OrderDeps = {
      repository: new OrderRepository(db),
      products: app.products,
      metrics: app.orderMetrics,
      pendingDeadlineMs: config.PENDING_DEADLINE_MS,
      // Reservations are refused after 2/3 of the deadline, leaving a margin for clock skew.
      reservationWindowMs: Math.floor((config.PENDING_DEADLINE_MS * 2) / 3),
      // One reservation call with its two retries (and their backoff), plus a margin.
      driveLeaseMs: config.RESERVATION_TIMEOUT_MS * 3 + 1_000,
      // A live driver's call ends within one deadline (a timeout is not retried); a dead one's lease outlasts that.
      driverWaitMs: config.RESERVATION_TIMEOUT_MS,
      limits: { maxQuantityPerProduct: config.MAX_QUANTITY_PER_LINE, maxUnitsPerHour: config.MAX_UNITS_PER_CUSTOMER_PER_HOUR },
    };
    // Test only (FAULT_CRASH_POINT): 'none' in production (config.ts refuses it without FAULT_INJECTION=enabled).
    app.decorate('orders', withCrashPoint(deps, config.FAULT_CRASH_POINT));
  },
  { name: 'orders', dependencies: ['order-metrics', 'product-client'] },
);
