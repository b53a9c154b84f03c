// (d) Business: orders by result, revenue, stock, users. Counters are shown
// per minute, the unit people think in for orders.
import { APP, buildDashboard, statPanel, timeSeriesPanel } from './common.js';

export const business = () =>
  buildDashboard({
    uid: 'ecommerce-business',
    title: 'E-commerce / Business',
    description: 'Orders, revenue, reservations and stock-outs, pending orders and the reconciler, users.',
    tags: ['business', 'orders'],
    panels: [
      statPanel({
        title: 'Orders confirmed (range)',
        description: 'Confirmed at placement, plus pending orders the reconciler confirmed later.',
        queries: [
          {
            expr:
              `sum(increase(orders_placed_total{${APP}, result="confirmed"}[$__range]))` +
              ` + (sum(increase(orders_settled_total{${APP}, result="confirmed"}[$__range])) or vector(0))`,
          },
        ],
      }),
      statPanel({
        title: 'Revenue (range)',
        description: 'Confirmed order totals, in the currency unit (cents / 100).',
        queries: [{ expr: `sum by (currency) (increase(orders_revenue_cents_total{${APP}}[$__range])) / 100`, legend: '{{currency}}' }],
      }),
      statPanel({
        title: 'Pending orders',
        queries: [{ expr: `max(orders_pending{${APP}})` }],
        thresholds: [[10, 'orange']],
      }),
      statPanel({
        title: 'Oldest pending order',
        unit: 's',
        queries: [{ expr: `max(orders_pending_oldest_age_seconds{${APP}})` }],
        thresholds: [[120, 'orange'], [300, 'red']],
        runbooks: ['OrdersStuckPending', 'OrderStatsStale'],
      }),
      timeSeriesPanel({
        title: 'Orders/min by result',
        unit: 'short',
        queries: [{ expr: `sum by (result) (rate(orders_placed_total{${APP}}[$__rate_interval])) * 60`, legend: '{{result}}' }],
      }),
      timeSeriesPanel({
        title: 'Revenue/min',
        unit: 'short',
        queries: [{ expr: `sum by (currency) (rate(orders_revenue_cents_total{${APP}}[$__rate_interval])) * 60 / 100`, legend: '{{currency}}' }],
      }),
      timeSeriesPanel({
        title: 'Rejected share of orders (15m)',
        description: 'Alert OrderRejectionRatioHigh: above 25% and twice the share of the day.',
        unit: 'percentunit',
        min: 0,
        queries: [
          { expr: 'service:orders_rejected:ratio_rate15m', legend: '15m' },
          { expr: 'service:orders_rejected:ratio_rate1d', legend: '1d' },
        ],
        runbooks: ['OrderRejectionRatioHigh'],
      }),
      timeSeriesPanel({
        title: 'Reservations/min by result',
        unit: 'short',
        queries: [{ expr: `sum by (result) (rate(reservations_total{${APP}}[$__rate_interval])) * 60`, legend: '{{result}}' }],
      }),
      timeSeriesPanel({
        title: 'Stock-outs (products reaching 0)',
        unit: 'short',
        queries: [{ expr: `sum(increase(product_stockouts_total{${APP}}[$__rate_interval]))`, legend: 'stock-outs' }],
      }),
      timeSeriesPanel({
        title: 'Pending and cancelling orders and age of the oldest',
        unit: 'short',
        queries: [
          { expr: `max(orders_pending{${APP}})`, legend: 'pending' },
          { expr: `max(orders_pending_oldest_age_seconds{${APP}})`, legend: 'oldest age (s)' },
          { expr: `max(orders_cancelling{${APP}})`, legend: 'cancelling' },
          { expr: `max(orders_cancelling_oldest_age_seconds{${APP}})`, legend: 'oldest cancelling (s)' },
        ],
        runbooks: ['OrdersStuckPending', 'OrdersStuckCancelling'],
      }),
      timeSeriesPanel({
        title: 'Cancellations and reconciler settlements/min',
        unit: 'short',
        queries: [
          { expr: `sum(rate(orders_cancelled_total{${APP}}[$__rate_interval])) * 60`, legend: 'cancelled' },
          { expr: `sum by (result) (rate(orders_settled_total{${APP}}[$__rate_interval])) * 60`, legend: 'settled {{result}}' },
        ],
        runbooks: ['OrdersStuckPending'],
      }),
      timeSeriesPanel({
        title: 'Registrations and logins/min',
        unit: 'short',
        queries: [
          { expr: `sum(rate(users_registered_total{${APP}}[$__rate_interval])) * 60`, legend: 'registered' },
          { expr: `sum by (result) (rate(user_logins_total{${APP}}[$__rate_interval])) * 60`, legend: 'login {{result}}' },
        ],
      }),
    ],
  });
