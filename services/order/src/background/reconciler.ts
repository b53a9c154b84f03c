import type { FastifyBaseLogger } from 'fastify';
import { SessionLockLost, errorCode, isUnavailableError, loggedMessage } from '@ecommerce/kit';
import { ProductAnswerError, ProductUnavailableError, type ReservationState } from '../clients/product-client.js';
import type { OrderRow } from '../model/order.js';
import type { OrderDeps } from '../use-cases/order-deps.js';
import { settleOrder, settleStuck, type SettleResult } from '../use-cases/settle-order.js';
import { inRootSpan, inSettleSpan } from './reconciler-spans.js';

const BATCH = 50;
/** Orders driven at once within a batch. */
const PARALLEL = 8;
/** The longest pause between passes while the product service does not answer. */
const MAX_BACKOFF_MS = 4_000;
const AUDIT_PAGE = 500;
/** Error answers in a row (no order's reservation read in between) after which the audit takes the product service as away. */
const AUDIT_MAX_ERRORS_IN_A_ROW = 8;
/** What the product service may say of a confirmed order's reservation that is not held. */
type LostReservation = Exclude<ReservationState['kind'], 'reserved' | 'unavailable' | 'unexpected'>;

export interface AuditResult {
  /** Reservations held for an order that is final and not confirmed (or unknown): released. */
  reservationWithoutOrder: number;
  /** Confirmed orders that hold no reservation: recorded as cancelled. */
  orderWithoutReservation: number;
  /** Set when the pass found more to repair than its bound allows: what it would have repaired; it repaired nothing. */
  held?: { reservationWithoutOrder: number; orderWithoutReservation: number };
}

/**
 * How much one audit pass may repair (AUDIT_MAX_REPAIRS, AUDIT_MAX_REPAIR_SHARE): a pass that would repair more than
 * `maxRepairs` of a kind and more than `maxShare` of what it checked of that kind (reservations listed, confirmed
 * orders) repairs nothing. A service pointed at the wrong or an empty database answers every check "not there", and
 * the repair of that is mass damage (every confirmed order cancelled, every held reservation released).
 */
export interface AuditBound {
  maxRepairs: number;
  maxShare: number;
}
export const DEFAULT_AUDIT_BOUND: AuditBound = { maxRepairs: 20, maxShare: 0.01 };

/**
 * Drives the orders no request is driving: pending past their deadline, whose driver died (its lease ran out) or
 * whose product call failed (its lease given back), so the order is reserved while its window is still open, and
 * cancels cut short (cancelling),
 * with the same settle step as the request path (use-cases/settle-order.ts). Safe in every replica at once: orders
 * are claimed with FOR UPDATE SKIP LOCKED plus a lease, and every write is a conditional transition. When the
 * product service does not answer, the pass stops, gives the leases back and the next pass comes after a
 * bounded backoff. An order whose try fails for itself alone (a client error for its payload, a bug) waits on its
 * own backoff and is failed past its deadline, while the pass goes on with the others (one poison order held up
 * every order behind it, and the audit, before); one with no answer goes to the back of the line (claims take the
 * least recently tried first), and the pass stops only when no order of a chunk got an answer. Every AUDIT_INTERVAL_MS one replica also audits both sides and
 * repairs drift.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;
  private nextAuditAt: number;
  private auditErrorsInARow = 0;
  /** Orders a pass cut short by a database error had claimed and not settled, their leases not yet given back. */
  private leasesToGiveBack: OrderRow[] = [];

  constructor(
    private readonly deps: OrderDeps,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
    private readonly auditIntervalMs: number,
    private readonly auditBound: AuditBound = DEFAULT_AUDIT_BOUND,
  ) {
    // On the monotonic clock: a wall clock stepped back an hour would hold the audit (the safety net) for that hour.
    this.nextAuditAt = performance.now() + auditIntervalMs;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pass()
        .catch((err) => {
          // Backs off as for the product service. The database or the product service being away is an outage to say
          // once a pass, not a bug's stack trace every interval.
          // The audit's lock lost mid-pass: the kit logged it once and counted it; the audit stopped, nothing to add.
          if (err instanceof SessionLockLost) return;
          this.failures++;
          if (isUnavailableError(err)) this.log.warn({ code: errorCode(err), reason: loggedMessage(err), retryInMs: this.backoffMs() }, 'reconciler pass skipped: the database is unavailable');
          else if (err instanceof ProductUnavailableError) this.log.warn({ reason: loggedMessage(err), retryInMs: this.backoffMs() }, 'reconciler pass cut short: the product service is unavailable');
          else this.log.error({ err }, 'reconciler pass failed');
        })
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.backoffMs());
        });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  /** The pause before the next pass: the interval, doubled per failed pass up to MAX_BACKOFF_MS. */
  private backoffMs(): number {
    return this.failures === 0 ? this.intervalMs : Math.min(this.intervalMs * 2 ** this.failures, Math.max(MAX_BACKOFF_MS, this.intervalMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    await this.runOnce();
    // Not while the product service is failing: the audit needs it too, and the backoff should hold. Nor once stopping.
    if (!this.stopped && this.failures === 0 && performance.now() >= this.nextAuditAt) {
      this.nextAuditAt = performance.now() + this.auditIntervalMs;
      await this.deps.repository.pruneUsage();
      await this.auditOnce();
    }
  }

  /** One pass over the orders due (a root span when tracing is on); returns how many it settled (moved to a final state). */
  async runOnce(): Promise<number> {
    return inRootSpan('reconcile pending orders', async (span) => {
      const settled = await this.settleDue();
      if (span.isRecording()) span.setAttribute('orders.settled', settled);
      return settled;
    });
  }

  private async settleDue(): Promise<number> {
    let settled = 0;
    await this.giveLeasesBack();
    while (!this.stopped) {
      const batch = await this.deps.repository.claimOverdue(BATCH, this.deps.driveLeaseMs);
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i += PARALLEL) {
        if (this.stopped) {
          // Shutting down (SIGTERM): the chunk in flight is finished, the rest given back at once to the next driver.
          // The whole pass went on before, a backlog through a slow product service for longer than the grace period.
          await this.deps.repository.releaseLeases(batch.slice(i));
          return settled;
        }
        const chunk = batch.slice(i, i + PARALLEL);
        // Every order of the chunk finishes its try (none is left driving on after the pass has ended) before an error
        // ends the pass: the database away, or a connection of it lost.
        const outcomes = await Promise.allSettled(chunk.map((row) => this.settleOverdue(row)));
        const failed = outcomes.find((o) => o.status === 'rejected');
        if (failed) {
          // The orders claimed and not settled are given back, so the next pass drives them: after a connection lost
          // they waited out their leases (3 call deadlines + 1 s). The chunk's own too: an order whose write failed
          // may have failed to give its lease back on the same lost connection. Right after the loss the pool may
          // still lend a dead connection, so what is not given back now is by the next pass, before it claims.
          this.leasesToGiveBack = batch.slice(i);
          await this.giveLeasesBack().catch(() => undefined);
          throw failed.reason;
        }
        const results = outcomes.map((o) => (o as PromiseFulfilledResult<Awaited<ReturnType<Reconciler['settleOverdue']>>>).value);
        settled += results.filter((r) => r === 'settled').length;
        if (results.every((r) => r === 'unavailable')) {
          // The product service is not answering: give the rest back at once and back off. (When it answered
          // others, those with no answer wait on their own backoff and the pass goes on.)
          await this.deps.repository.releaseLeases(batch.slice(i + PARALLEL));
          this.failures++;
          return settled;
        }
      }
      if (batch.length < BATCH) break;
    }
    this.failures = 0;
    return settled;
  }

  /**
   * Gives back the leases of leasesToGiveBack, each only while it is still the lease as claimed (releaseLeases), so an
   * order settled, held off or claimed by another driver since is left as it is.
   */
  private async giveLeasesBack(): Promise<void> {
    if (this.leasesToGiveBack.length === 0) return;
    try {
      await this.deps.repository.releaseLeases(this.leasesToGiveBack);
    } catch (err) {
      // The database still away: tried again by the next pass. Any other error (a bug) must not hold every pass up:
      // those leases run out instead.
      if (isUnavailableError(err)) throw err;
      this.log.error({ err, orders: this.leasesToGiveBack.length }, 'reconciler could not give back the leases of a pass cut short; they run out instead');
    }
    this.leasesToGiveBack = [];
  }

  private async settleOverdue(row: OrderRow): Promise<'settled' | 'unchanged' | 'unavailable' | 'held'> {
    const from = row.status;
    let result: SettleResult;
    try {
      result = await inSettleSpan(row.id, row.traceparent, () => settleOrder(this.deps, row));
    } catch (err) {
      if (isUnavailableError(err)) {
        // The database is away: an outage for every order; the pass stops.
        await this.deps.repository.releaseLeases([row]).catch(() => undefined);
        throw err;
      }
      this.deps.metrics.settleErrors.inc({ reason: 'error' });
      this.log.error({ err, orderId: row.id }, 'reconciler could not settle an order; it is tried again later, the others go on');
      // Should this fail too, its lease runs out; the other orders go on either way.
      result = await settleStuck(this.deps, row, (err as Error)?.message ?? 'error').catch(() => ({ row, moved: false, heldOff: 'error' }));
    }
    if (result.unavailable) {
      this.log.warn({ orderId: row.id, reason: loggedMessage(result.unavailable) }, 'reconciler: product service unavailable; will retry');
      // Free at once but last in line: an answer that never comes for this order alone (a 500 for its payload)
      // would otherwise stop every pass at the same oldest orders.
      await this.deps.repository.triedAgainLater(row.id).catch(() => undefined);
      return 'unavailable';
    }
    if (result.heldOff) {
      this.log.warn({ orderId: row.id, reason: loggedMessage(result.heldOff) }, 'reconciler: this order could not be settled; it waits on its own backoff');
      return 'held';
    }
    if (!result.moved) return 'unchanged';
    const to = result.row.status;
    if (from === 'cancelling') {
      this.deps.metrics.repairs.inc({ kind: 'cancel_finished' });
      this.log.warn({ orderId: row.id }, 'reconciler finished a cancel cut short');
    } else {
      this.deps.metrics.settled.inc({ result: to === 'confirmed' ? 'confirmed' : to === 'rejected' ? 'rejected' : 'failed' });
      this.log.info({ orderId: row.id, status: to }, 'reconciler settled a pending order');
    }
    return 'settled';
  }

  /**
   * The safety net: compares the reservations held (product) with the confirmed orders (here), both walked in
   * order id order, and repairs what a bug or a lost write left: a reservation held for an order that is final
   * and not confirmed is released; a confirmed order without a reservation is recorded as cancelled (its units
   * are on sale already). Every candidate is read again before it is repaired, so an order in flight is never
   * touched. One replica at a time (advisory lock); returns null when another holds it. An error answer about one
   * order's reservation (or a page of the held list) is counted and skipped, audited again next time (one such answer
   * stopped every repair of every audit before); no answer at all, or AUDIT_MAX_ERRORS_IN_A_ROW error answers in a
   * row, stops the audit as an outage. The lock lost mid-pass (its connection ended: another replica may audit now)
   * stops the audit at its next step with SessionLockLost: the walk, the reads and each repair check `signal` first.
   */
  async auditOnce(): Promise<AuditResult | null> {
    return inRootSpan('audit orders and reservations', () => this.deps.repository.withAuditLock((signal) => this.audit(signal)));
  }

  private async audit(signal: AbortSignal): Promise<AuditResult> {
    const result: AuditResult = { reservationWithoutOrder: 0, orderWithoutReservation: 0 };
    this.auditErrorsInARow = 0;
    const listed = pages((after) => this.deps.products.listHeld(after, AUDIT_PAGE).then((p) => ({ ids: p.orderIds, next: p.next })));
    const confirmed = pages(async (after) => {
      const ids = await this.deps.repository.confirmedIds(after, AUDIT_PAGE);
      return { ids, next: ids.length === AUDIT_PAGE ? ids[ids.length - 1]! : null };
    });
    // A page of the held list answered with an error status: what was compared up to it is repaired (every id below
    // the last listed one is known on both sides), the rest waits for the next audit. No answer at all stops the audit.
    let cut = false;
    const checked = { held: 0, confirmed: 0 };
    const held = {
      next: async (): Promise<IteratorResult<string, void>> => {
        try {
          const next = await listed.next();
          if (!next.done) checked.held++;
          return next;
        } catch (err) {
          if (!(err instanceof ProductAnswerError)) throw err;
          this.auditAnswerError(err.message);
          cut = true;
          return { done: true, value: undefined };
        }
      },
    };
    const nextConfirmed = async () => {
      const next = await confirmed.next();
      if (!next.done) checked.confirmed++;
      return next;
    };
    const heldOnly: string[] = [];
    const confirmedOnly: string[] = [];
    const orphans: string[] = [];
    let h = await held.next();
    let c = await nextConfirmed();
    // Stopping (SIGTERM) ends the walk at the next id, and nothing is repaired: the next audit (here or in another
    // replica) walks it all again. The walk of a big shop went on before, holding the shutdown past its grace period.
    while (!cut && !this.stopped && (!h.done || !c.done)) {
      signal.throwIfAborted();
      if (!h.done && !c.done && h.value === c.value) {
        [h, c] = await Promise.all([held.next(), nextConfirmed()]);
      } else if (c.done || (!h.done && h.value < c.value)) {
        heldOnly.push(h.value as string);
        h = await held.next();
      } else {
        confirmedOnly.push(c.value);
        c = await nextConfirmed();
      }
      if (heldOnly.length >= AUDIT_PAGE) orphans.push(...(await this.orphansAmong(heldOnly.splice(0))));
    }
    if (this.stopped) return result;
    signal.throwIfAborted();
    orphans.push(...(await this.orphansAmong(heldOnly)));
    // First only read what there is to repair, then repair it all or, past the bound, none of it.
    const unheld: Array<{ id: string; reservation: LostReservation }> = [];
    for (const id of confirmedOnly) {
      signal.throwIfAborted();
      const reservation = await this.reservationLost(id);
      if (reservation) unheld.push({ id, reservation });
    }
    const wouldRepair = { reservationWithoutOrder: orphans.length, orderWithoutReservation: unheld.length };
    const hold = this.pastBound(orphans.length, checked.held) || this.pastBound(unheld.length, checked.confirmed);
    this.deps.metrics.auditHeldRepairs.set({ kind: 'reservation_without_order' }, hold ? orphans.length : 0);
    this.deps.metrics.auditHeldRepairs.set({ kind: 'order_without_reservation' }, hold ? unheld.length : 0);
    if (hold) {
      this.log.error(
        { wouldRepair, checked, bound: this.auditBound, orderIds: { reservationWithoutOrder: orphans.slice(0, 10), orderWithoutReservation: unheld.slice(0, 10).map((u) => u.id) } },
        'audit held every repair: it would repair more than AUDIT_MAX_REPAIRS and more than AUDIT_MAX_REPAIR_SHARE of what it checked, ' +
          'as when a service points at the wrong or an empty database; check both services\' DATABASE_URL, then raise the bound (and restart) to let a real drift this large be repaired',
      );
      return { ...result, held: wouldRepair };
    }
    result.reservationWithoutOrder += await this.releaseOrphans(orphans, signal);
    for (const { id, reservation } of unheld) {
      signal.throwIfAborted();
      if (await this.cancelUnheld(id, reservation)) result.orderWithoutReservation++;
    }
    if (result.reservationWithoutOrder || result.orderWithoutReservation) this.log.warn({ ...result }, 'audit repaired drift between orders and reservations');
    return result;
  }

  /** More repairs of one kind than the bound allows: above both the count and the share of the ids checked. */
  private pastBound(repairs: number, checked: number): boolean {
    return repairs > this.auditBound.maxRepairs && repairs > this.auditBound.maxShare * checked;
  }

  /** The held ones whose order is final and not confirmed (or unknown): reservations to release. */
  private async orphansAmong(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const status = await this.deps.repository.statusesOf(ids);
    return ids.filter((id) => isOrphan(status.get(id)));
  }

  private async releaseOrphans(ids: string[], signal: AbortSignal): Promise<number> {
    if (ids.length === 0) return 0;
    signal.throwIfAborted();
    const status = await this.deps.repository.statusesOf(ids);
    let repaired = 0;
    for (const id of ids) {
      signal.throwIfAborted();
      const s = status.get(id);
      // Read again right before it is released (it may have moved since the walk).
      if (!isOrphan(s)) continue;
      const outcome = await this.deps.products.release(id);
      if (outcome === 'unavailable') throw new ProductUnavailableError('no answer to a release during the audit');
      if (outcome === 'unexpected') {
        // This one alone: the next audit tries it again; the others are repaired meanwhile.
        this.deps.metrics.settleErrors.inc({ reason: 'unexpected_answer' });
        this.log.warn({ orderId: id }, 'audit: the product service answered a release with a client error; tried again by the next audit');
        continue;
      }
      // Held when the audit listed it, given back since by the order's own cancel: nothing to repair.
      if (outcome !== 'released') continue;
      this.deps.metrics.repairs.inc({ kind: 'reservation_without_order' });
      this.log.warn({ orderId: id, status: s ?? 'unknown' }, 'audit released a reservation held for an order that is not confirmed');
      repaired++;
    }
    return repaired;
  }

  /** An error answer during the audit: counted and skipped; too many in a row and the product service is taken as away. */
  private auditAnswerError(reason: string): void {
    this.deps.metrics.settleErrors.inc({ reason: 'unexpected_answer' });
    this.log.warn({ reason: loggedMessage(reason) }, 'audit: the product service answered with an error; that part is audited again next time, the rest goes on');
    if (++this.auditErrorsInARow >= AUDIT_MAX_ERRORS_IN_A_ROW) throw new ProductUnavailableError(`${this.auditErrorsInARow} error answers in a row during the audit (last: ${reason})`);
  }

  /** What the product service says of a confirmed order's reservation: null while it is held (or on an error answer, skipped). */
  private async reservationLost(id: string): Promise<LostReservation | null> {
    const state = await this.deps.products.get(id);
    if (state.kind === 'reserved') return null;
    if (state.kind === 'unavailable') throw new ProductUnavailableError(`${state.reason} during the audit`);
    if (state.kind === 'unexpected') {
      // This order alone, as far as we know: counted, tried again by the next audit; the others are checked meanwhile.
      this.auditAnswerError(`${state.reason} for the reservation of order ${id}`);
      return null;
    }
    this.auditErrorsInARow = 0;
    return state.kind;
  }

  private async cancelUnheld(id: string, reservation: LostReservation): Promise<boolean> {
    // Confirmed is written only after the reservation is taken, and a cancel records `cancelling` before it
    // releases, so a confirmed order seen without a reservation is drift; the conditional write skips a cancel
    // that began meanwhile.
    const done = await this.deps.repository.transition(id, 'confirmed', 'cancelled', { rejection: { reason: 'reservation-lost', reservation } });
    if (!done) return false;
    this.deps.metrics.repairs.inc({ kind: 'order_without_reservation' });
    this.log.warn({ orderId: id, reservation }, 'audit recorded a confirmed order without a reservation as cancelled');
    return true;
  }
}

/** A reservation held for an order in this state is an orphan: the order is final and not confirmed, or unknown. */
function isOrphan(status: string | undefined): boolean {
  // pending / confirmed / cancelling: in flight or legitimately held; their driver decides.
  return status === undefined || status === 'rejected' || status === 'failed' || status === 'cancelled';
}

/** The ids of a keyset-paged source, one by one. */
async function* pages(fetch: (after: string | null) => Promise<{ ids: string[]; next: string | null }>): AsyncGenerator<string, void> {
  let after: string | null = null;
  for (;;) {
    const page = await fetch(after);
    for (const id of page.ids) yield id;
    if (!page.next) return;
    after = page.next;
  }
}
