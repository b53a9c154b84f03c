import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '@ecommerce/kit';
import type { OrderRepository } from '../data/order-repository.js';

/**
 * The pending-order gauges (and those of cancels cut short: `cancelling`, whose stock is still held), refreshed in the background, so a scrape never waits on (or fails with) the database:
 * a database outage must not turn into "order service down". The last success time says how fresh the figures are.
 */
export class PendingStats {
  private readonly figures = { count: 0, oldestAgeSeconds: 0, cancellingCount: 0, cancellingOldestAgeSeconds: 0, lastSuccess: 0 };
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly repository: OrderRepository,
    metrics: Metrics,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {
    const figures = this.figures;
    metrics.gauge('orders_pending', 'Orders currently pending (refreshed every STATS_INTERVAL_MS).', [], function () {
      this.set(figures.count);
    });
    metrics.gauge('orders_pending_oldest_age_seconds', 'Age of the oldest pending order (0 when none; refreshed every STATS_INTERVAL_MS).', [], function () {
      this.set(figures.oldestAgeSeconds);
    });
    metrics.gauge('orders_cancelling', 'Orders currently cancelling: a cancel cut short, its stock not given back yet (refreshed every STATS_INTERVAL_MS).', [], function () {
      this.set(figures.cancellingCount);
    });
    metrics.gauge(
      'orders_cancelling_oldest_age_seconds',
      'Time since the oldest cancelling order was cancelled (0 when none; refreshed every STATS_INTERVAL_MS).',
      [],
      function () {
        this.set(figures.cancellingOldestAgeSeconds);
      },
    );
    metrics.gauge('orders_stats_last_success_timestamp_seconds', 'Unix time of the last successful refresh of the pending-order gauges (0: none yet).', [], function () {
      this.set(figures.lastSuccess);
    });
  }

  /** Refreshes now, then every intervalMs after the previous refresh ended. */
  start(): void {
    this.refreshing = this.repository
      .pendingStats()
      .then((s) => Object.assign(this.figures, s, { lastSuccess: Date.now() / 1000 }))
      .catch((err) => this.log.warn({ err }, 'pending-order stats refresh failed; the gauges keep their last values'))
      .then(() => {
        this.refreshing = null;
        this.timer = setTimeout(() => this.start(), this.intervalMs);
        this.timer.unref();
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing;
    // A refresh that was running when stop began has set the next timer meanwhile.
    if (this.timer) clearTimeout(this.timer);
  }
}
