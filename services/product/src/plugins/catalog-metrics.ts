import fp from 'fastify-plugin';
import type { App } from '@ecommerce/kit';

const RESERVATION_RESULTS = ['reserved', 'insufficient_stock', 'replayed', 'released', 'not_found', 'mixed_currency', 'expired', 'price_changed'] as const;
export type ReservationResult = (typeof RESERVATION_RESULTS)[number];

export interface CatalogMetrics {
  reservations: { inc(labels: { result: ReservationResult }, value?: number): void };
  stockouts: { inc(value?: number): void };
}

declare module 'fastify' {
  interface FastifyInstance {
    catalogMetrics: CatalogMetrics;
  }
}

/** The catalog's own counters, next to the kit's HTTP and database metrics. */
export default fp(
  async (app: App) => {
    app.decorate('catalogMetrics', {
      reservations: app.metrics.counter('reservations_total', 'Reservation requests by result.', ['result'], RESERVATION_RESULTS.map((result) => ({ result }))),
      stockouts: app.metrics.counter('product_stockouts_total', 'Times a product’s available stock reached 0.'),
    });
  },
  { name: 'catalog-metrics' },
);
