import fp from 'fastify-plugin';
import type { App, Counter, Gauge } from '@ecommerce/kit';

export interface OrderMetrics {
  placed: Counter<'result'>;
  settled: Counter<'result'>;
  cancelled: Counter;
  revenue: Counter<'currency'>;
  repairs: Counter<'kind'>;
  settleErrors: Counter<'reason'>;
  auditHeldRepairs: Gauge<'kind'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    orderMetrics: OrderMetrics;
  }
}

/** The drift kinds the audit repairs (orders_repairs_total) or holds back (orders_audit_held_repairs). */
const AUDIT_REPAIR_KINDS = ['reservation_without_order', 'order_without_reservation'];

/** Both kinds at 0 from the start, so the alert sees 0 and not "no data". */
function heldRepairs(gauge: Gauge<'kind'>): Gauge<'kind'> {
  for (const kind of AUDIT_REPAIR_KINDS) gauge.set({ kind }, 0);
  return gauge;
}

/** The order counters, each label set created at 0 so its series exists before the first event. */
export default fp(
  async (app: App) => {
    const { metrics } = app;
    app.decorate('orderMetrics', {
      placed: metrics.counter('orders_placed_total', 'Order placement requests by result.', ['result'], ['confirmed', 'rejected', 'failed', 'pending', 'replayed', 'not_found'].map((result) => ({ result }))),
      settled: metrics.counter('orders_settled_total', 'Pending orders settled by the reconciler, by result.', ['result'], [{ result: 'confirmed' }, { result: 'rejected' }, { result: 'failed' }]),
      cancelled: metrics.counter('orders_cancelled_total', 'Orders cancelled.'),
      revenue: metrics.counter('orders_revenue_cents_total', 'Total of confirmed orders, in minor units.', ['currency'], [{ currency: 'USD' }]),
      repairs: metrics.counter(
        'orders_repairs_total',
        'Repairs by the reconciler: cancels it finished after a crash, and drift its audit found between orders and reservations.',
        ['kind'],
        ['cancel_finished', ...AUDIT_REPAIR_KINDS].map((kind) => ({ kind })),
      ),
      settleErrors: metrics.counter(
        'orders_settle_errors_total',
        'Tries to settle an order that failed for that order alone (the product service answered its request with a client error, or a bug), by reason; the order is tried again later.',
        ['reason'],
        ['unexpected_answer', 'error'].map((reason) => ({ reason })),
      ),
      auditHeldRepairs: heldRepairs(metrics.gauge(
        'orders_audit_held_repairs',
        "Repairs the last audit here found and held back, by kind: more than AUDIT_MAX_REPAIRS and AUDIT_MAX_REPAIR_SHARE of what it checked (a service on the wrong database?); 0 when it repaired.",
        ['kind'],
      )),
    });
  },
  { name: 'order-metrics', decorators: { fastify: ['metrics'] } },
);
