import type { FastifyBaseLogger } from 'fastify';
import { claimOverdue, transition, type OrderRow } from './orders.js';
import { priced, type OrderDeps } from './place-order.js';

/**
 * Settles pending orders past their deadline. Safe in every replica at once: orders are
 * claimed with FOR UPDATE SKIP LOCKED plus a lease, and every write is a conditional transition.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: OrderDeps,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((err) => this.log.error({ err }, 'reconciler pass failed'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns how many orders it settled. */
  async runOnce(): Promise<number> {
    let settled = 0;
    for (;;) {
      const batch = await claimOverdue(this.deps.db, 50, 30_000);
      if (batch.length === 0) return settled;
      for (const row of batch) if (await this.settle(row)) settled++;
      if (batch.length < 50) return settled;
    }
  }

  private async settle(row: OrderRow): Promise<boolean> {
    const state = await this.deps.products.get(row.id);
    const m = this.deps.metrics;
    switch (state.kind) {
      case 'reserved': {
        const p = priced(row.items, state.items);
        if (await transition(this.deps.db, row.id, 'pending', 'confirmed', p)) {
          m.settled.inc({ result: 'confirmed' });
          m.revenue.inc({ currency: p.currency }, p.totalCents);
          this.log.info({ orderId: row.id }, 'reconciler confirmed a pending order');
        }
        return true;
      }
      case 'released':
      case 'absent': {
        // Nothing is held (the product refuses reservations past notAfter, which is before the deadline).
        if (await transition(this.deps.db, row.id, 'pending', 'failed', { rejection: { reason: 'not-reserved-before-deadline' } })) {
          m.settled.inc({ result: 'failed' });
          this.log.info({ orderId: row.id }, 'reconciler failed a pending order that holds no reservation');
        }
        return true;
      }
      case 'unavailable':
        this.log.warn({ orderId: row.id, reason: state.reason }, 'reconciler: product service unavailable; will retry');
        return false;
    }
  }
}
