import { setTimeout as sleep } from 'node:timers/promises';
import { Conflict, NotFound, ProblemError, UnprocessableEntity } from '@ecommerce/kit';
import type { Refusal, ReserveOutcome } from '../clients/product-client.js';
import type { ReservedLine as ReservationItem } from '@ecommerce/contracts';
import { expectationOf, inFlight, storedProblem, type OrderLine, type OrderRow, type StoredProblem } from '../model/order.js';
import type { RequestContext } from '../model/request-context.js';
import type { OrderDeps } from './order-deps.js';

export interface SettleResult {
  row: OrderRow;
  /** This driver's write moved the order (false: a concurrent driver had already, or nothing could be decided). */
  moved: boolean;
  /** Set when the product service did not answer: the order is unchanged and its lease given back. */
  unavailable?: string;
  /** Set when this try failed for this order alone: the order is unchanged and waits on its own backoff. */
  heldOff?: string;
}

/**
 * THE settle step, for the request path, a replay and the reconciler: the caller holds the order's drive lease.
 * pending: reserve by order id (idempotent; a refusal is final on the product side) and record the outcome;
 * cancelling: release by order id (idempotent) and record cancelled. When the product service does not answer,
 * nothing changes and the lease is given back at once, so the next driver need not wait for it to expire.
 */
export async function settleOrder(deps: OrderDeps, row: OrderRow, context?: RequestContext): Promise<SettleResult> {
  if (row.status === 'cancelling') return finishCancel(deps, row, context);
  if (row.status !== 'pending') return { row, moved: false };
  // Given up by a driver that died before failing it: released and failed, never reserved again.
  if (row.given_up_at) return settleStuck(deps, row, 'given up');
  const outcome = await reserveFor(deps, row, context);
  let moved: OrderRow | null = null;
  switch (outcome.kind) {
    case 'reserved': {
      let p: ReturnType<typeof priced>;
      try {
        p = priced(row.items, outcome.items);
      } catch (err) {
        // The product service reserved but its answer cannot be read (a line missing): nothing decided here. The
        // order stays pending on its own backoff: a placement answers 503 pending (a retry with its key, or the
        // reconciler, settles it once the answer is right), and past its deadline it is released and failed.
        deps.metrics.settleErrors.inc({ reason: 'error' });
        return settleStuck(deps, row, (err as Error).message);
      }
      moved = await deps.repository.transition(row.id, 'pending', 'confirmed', p);
      if (moved) deps.metrics.revenue.inc({ currency: p.currency }, p.totalCents);
      break;
    }
    case 'refused': {
      const { to, problem } = refusalOutcome(row.id, outcome.refusal);
      moved = await deps.repository.transition(row.id, 'pending', to, { rejection: problem });
      break;
    }
    case 'unavailable':
      await giveLeaseBack(deps, row);
      return { row, moved: false, unavailable: outcome.reason };
    case 'unexpected':
      deps.metrics.settleErrors.inc({ reason: 'unexpected_answer' });
      return settleStuck(deps, row, outcome.reason);
  }
  return { row: moved ?? (await reload(deps, row.id)), moved: moved !== null };
}

/**
 * After a try that failed for this order alone (a client error from the product service, a bug): a pending order past
 * its deadline, for which no reservation can be taken any more, is given up, gives back whatever an earlier try may
 * hold and is recorded failed; any other waits on its own backoff while the other orders are driven. The caller holds
 * the lease, but may have lost it unknowingly (stalled past it): another driver may have reserved and be confirming.
 */
export async function settleStuck(deps: OrderDeps, row: OrderRow, reason: string): Promise<SettleResult> {
  // The decision first, in the order row: once it is written no driver can confirm the order, so the release below
  // cannot take the stock of an order confirmed meanwhile; when a confirm won first, nothing is released. A crash
  // after it leaves the order pending and given up, for the next driver to release and fail.
  const givenUp = row.status === 'pending' ? await deps.repository.giveUp(row.id) : null;
  if (givenUp) {
    const released = await deps.products.release(row.id);
    if (released === 'released' || released === 'not-held' || released === 'absent') {
      const problem = storedProblem(
        new Conflict('order-failed', 'The order could not be reserved before its deadline; it was recorded as failed and nothing is held', { orderId: row.id, reason: 'not-reservable' }),
      );
      const moved = await deps.repository.transition(row.id, 'pending', 'failed', { rejection: problem });
      return { row: moved ?? (await reload(deps, row.id)), moved: moved !== null };
    }
  }
  await deps.repository.holdOff(row);
  return { row, moved: false, heldOff: reason };
}

/** How long a driver waits to give its lease back before it answers anyway (giveLeaseBack). */
const LEASE_GIVE_BACK_WAIT_MS = 1_000;

/**
 * Gives the drive lease back so the next driver need not wait for it to expire, waiting for that write at most
 * LEASE_GIVE_BACK_WAIT_MS. With the database hung, or the order's row held by another session, the write waited out
 * the statement timeout (8 s) after the reservation's deadline (2 s), and a placement answered after the gateway's 10 s
 * upstream timeout (a 504); not given back in time, the lease runs out by itself. A failure within the wait is thrown
 * as before (a 503 for an outage); a later one is dropped.
 */
async function giveLeaseBack(deps: OrderDeps, row: OrderRow): Promise<void> {
  const release = deps.repository.releaseLeases([row]);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, LEASE_GIVE_BACK_WAIT_MS, 'late')));
  try {
    if ((await Promise.race([release, waited])) === 'late') release.catch(() => undefined);
  } finally {
    clearTimeout(timer);
  }
}

async function finishCancel(deps: OrderDeps, row: OrderRow, context?: RequestContext): Promise<SettleResult> {
  const released = await deps.products.release(row.id, context);
  if (released === 'unavailable') {
    await giveLeaseBack(deps, row);
    return { row, moved: false, unavailable: 'product service unavailable' };
  }
  if (released === 'unexpected') {
    deps.metrics.settleErrors.inc({ reason: 'unexpected_answer' });
    return settleStuck(deps, row, 'product answered the release with a client error');
  }
  const done = await deps.repository.transition(row.id, 'cancelling', 'cancelled');
  if (done) deps.metrics.cancelled.inc();
  return { row: done ?? (await reload(deps, row.id)), moved: done !== null };
}

function reserveFor(deps: OrderDeps, row: OrderRow, context?: RequestContext): Promise<ReserveOutcome> {
  // The product refuses to reserve after notAfter, so once the deadline passes no late request can appear.
  const notAfter = new Date(row.created_at.getTime() + deps.reservationWindowMs);
  return deps.products.reserve(row.id, row.items.map((l) => ({ productId: l.productId, quantity: l.quantity, ...expectationOf(l) })), notAfter, context);
}

export interface AwaitedOrder {
  row: OrderRow;
  /** Set when the order is still in flight under another driver's lease: whole seconds until that lease is free. */
  retryAfterSeconds?: number;
}

/**
 * An order in flight (pending or cancelling) has one driver at a time. A second request for it (a replay, a
 * repeated cancel) takes the lease when it is free and settles the order itself, or waits for the driver that
 * holds it and answers with its result. It waits at most `driverWaitMs` (one reservation deadline, which a live
 * driver's call meets), not the lease: a driver SIGKILLed mid-request holds its lease until it expires (3
 * deadlines + 1 s), and waiting that out held the client past the gateway's timeout (a 504). The answer then
 * says when the lease is free, for the client's Retry-After.
 */
export async function settleOrAwait(deps: OrderDeps, row: OrderRow, context: RequestContext): Promise<AwaitedOrder> {
  // The monotonic clock: a wall clock stepped back (NTP, a resumed VM) would stretch the wait past the gateway's timeout.
  const until = performance.now() + deps.driverWaitMs;
  let delay = 10;
  while (inFlight(row.status)) {
    const claimed = await deps.repository.claimDrive(row.id, deps.driveLeaseMs);
    if (claimed) return { row: (await settleOrder(deps, claimed, context)).row };
    if (performance.now() >= until) return { row, retryAfterSeconds: Math.max(1, Math.ceil((await deps.repository.leaseLeftMs(row.id)) / 1000)) };
    await sleep(Math.min(delay, Math.max(1, until - performance.now())));
    delay = Math.min(delay * 2, 200);
    row = await reload(deps, row.id);
  }
  return { row };
}

/** The order as it is now (after a concurrent writer won); orders are never deleted. */
export async function reload(deps: OrderDeps, id: string): Promise<OrderRow> {
  const row = await deps.repository.findById(id);
  if (!row) throw new NotFound('Order not found');
  return row;
}

/** Applies the reservation's prices and product names to the client's lines (prices never come from the client). */
function priced(lines: OrderLine[], reserved: ReservationItem[]): { items: OrderLine[]; totalCents: number; currency: string } {
  const price = new Map(reserved.map((r) => [r.productId.toLowerCase(), r]));
  const items = lines.map((l) => {
    const r = price.get(l.productId.toLowerCase());
    if (!r) throw new Error(`reservation lacks product ${l.productId}`);
    return { productId: l.productId, quantity: l.quantity, unitPriceCents: r.unitPriceCents, ...(r.name !== undefined ? { name: r.name } : {}) };
  });
  return { items, totalCents: items.reduce((sum, l) => sum + l.quantity * (l.unitPriceCents ?? 0), 0), currency: reserved[0]?.currency ?? 'USD' };
}

/**
 * THE mapping of a product refusal (by its reason, whatever its status: product-client's isRefusal) to the order's final state and the
 * problem its client gets, now and on every replay. Used by the request path and the reconciler alike.
 */
function refusalOutcome(orderId: string, refusal: Refusal): { to: 'rejected' | 'failed'; problem: StoredProblem } {
  switch (refusal.reason) {
    case 'insufficient-stock':
      return { to: 'rejected', problem: storedProblem(new Conflict('insufficient-stock', 'Not enough stock for this order; it was recorded as rejected', { orderId, items: refusal.items ?? [] })) };
    case 'unknown-product':
      return {
        to: 'rejected',
        problem: storedProblem(new ProblemError(404, 'not-found', 'Not found', 'One or more products are unknown or archived; the order was recorded as rejected', { orderId, productIds: refusal.productIds ?? [] })),
      };
    case 'price-changed':
      return {
        to: 'rejected',
        problem: storedProblem(
          new Conflict('price-changed', 'A price changed since it was shown; the order was recorded as rejected and nothing was reserved', { orderId, items: refusal.items ?? [] }),
        ),
      };
    case 'mixed-currency':
      return { to: 'rejected', problem: { ...storedProblem(new UnprocessableEntity('mixed-currency', 'All items of one order must share one currency; the order was recorded as rejected')), orderId } };
    case 'expired':
    case 'released':
      // Not the customer's request: the order could not be reserved in its window (the product service was
      // unreachable until the deadline). Recorded as failed; the customer may place it again under a new key.
      return {
        to: 'failed',
        problem: storedProblem(new Conflict('order-failed', 'The order could not be reserved before its deadline; it was recorded as failed and nothing is held', { orderId, reason: refusal.reason })),
      };
    default:
      return { to: 'rejected', problem: { ...storedProblem(new UnprocessableEntity('reservation-refused', `The product service refused the order (${refusal.reason})`)), orderId, reason: refusal.reason } };
  }
}
