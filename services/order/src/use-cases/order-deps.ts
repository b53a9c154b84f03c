import type { ProductClient } from '../clients/product-client.js';
import type { OrderRepository } from '../data/order-repository.js';
import type { OrderMetrics } from '../plugins/order-metrics.js';

/** What the order use cases work with (decorated as `app.orders` by plugins/orders.ts). */
export interface OrderDeps {
  repository: OrderRepository;
  products: ProductClient;
  metrics: OrderMetrics;
  pendingDeadlineMs: number;
  /** How long before the deadline a reservation may still be taken (see notAfter). */
  reservationWindowMs: number;
  /** How long one driver owns an order in flight: longer than a reservation call with its retries. */
  driveLeaseMs: number;
  /** How long a replay or a repeated cancel waits for another driver before answering 503 with Retry-After. */
  driverWaitMs: number;
  limits: { maxQuantityPerProduct: number; maxUnitsPerHour: number };
}
