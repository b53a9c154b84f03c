import { createHash } from 'node:crypto';
import {
  Conflict,
  NotFound,
  ProblemError,
  ServiceUnavailable,
  UnprocessableEntity,
  uuidv7,
  type CallContext,
  type Counter,
  type Database,
} from '@ecommerce/kit';
import { findByIdempotencyKey, getOrderRow, insertPendingOrder, toOrder, transition, type Order, type OrderLine, type OrderRow } from './orders.js';
import type { ProductClient, ReservedLine, ReserveOutcome } from './product-client.js';

export interface OrderMetrics {
  placed: Counter<'result'>;
  settled: Counter<'result'>;
  cancelled: Counter;
  revenue: Counter<'currency'>;
}

export interface OrderDeps {
  db: Database;
  products: ProductClient;
  metrics: OrderMetrics;
  pendingDeadlineMs: number;
  /** Test-only crash point (FAULT_CRASH_POINT), to prove recovery from a process killed mid-placement. */
  crashPoint: 'none' | 'after-pending' | 'after-reserve';
  /** How long before the deadline a reservation may still be taken (see notAfter). */
  reservationWindowMs: number;
}

export interface PlaceResult {
  order: Order;
  /** 201 for a new order, 200 for a replay of the same Idempotency-Key. */
  status: 200 | 201;
}

/** Canonical hash of what the client asked for, to tell a replay from a different request under the same key. */
function requestHash(items: { productId: string; quantity: number }[]): string {
  return createHash('sha256').update(JSON.stringify(items.map((i) => [i.productId.toLowerCase(), i.quantity]))).digest('hex');
}

/** Applies the reservation's prices to the client's lines (prices never come from the client). */
export function priced(lines: OrderLine[], reserved: ReservedLine[]): { items: OrderLine[]; totalCents: number; currency: string } {
  const price = new Map(reserved.map((r) => [r.productId.toLowerCase(), r]));
  const items = lines.map((l) => {
    const r = price.get(l.productId.toLowerCase());
    if (!r) throw new Error(`reservation lacks product ${l.productId}`);
    return { productId: l.productId, quantity: l.quantity, unitPriceCents: r.unitPriceCents };
  });
  return { items, totalCents: items.reduce((sum, l) => sum + l.quantity * (l.unitPriceCents ?? 0), 0), currency: reserved[0]?.currency ?? 'USD' };
}

/**
 * Order placement (ARCHITECTURE.md, "Order placement, step by step"): write `pending`,
 * reserve by orderId, then record the outcome. A crash or timeout in between leaves
 * `pending`, which a replay or the reconciler settles.
 */
export async function placeOrder(
  deps: OrderDeps,
  userId: string,
  key: string,
  lines: { productId: string; quantity: number }[],
  context: CallContext,
): Promise<PlaceResult> {
  const hash = requestHash(lines);
  const inserted = await insertPendingOrder(deps.db, {
    id: uuidv7(),
    userId,
    items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPriceCents: null })),
    key,
    requestHash: hash,
    deadlineMs: deps.pendingDeadlineMs,
  });
  if (inserted) {
    if (deps.crashPoint === 'after-pending') process.kill(process.pid, 'SIGKILL');
    const outcome = await reserveFor(deps, inserted, context);
    if (deps.crashPoint === 'after-reserve') process.kill(process.pid, 'SIGKILL');
    return { order: toOrder(await settleWith(deps, inserted, outcome, 'placed')), status: 201 };
  }

  const existing = await findByIdempotencyKey(deps.db, userId, key);
  if (!existing) throw new Error('idempotency conflict without a stored order');
  if (existing.request_hash !== hash) {
    throw new UnprocessableEntity('idempotency-key-reused', 'This Idempotency-Key was used with a different request body');
  }
  deps.metrics.placed.inc({ result: 'replayed' });
  // A replay of a still-pending order retries the reservation (idempotent by orderId), so client retries help.
  const row = existing.status === 'pending' ? await settleWith(deps, existing, await reserveFor(deps, existing, context), 'replayed') : existing;
  return { order: toOrder(row), status: 200 };
}

function reserveFor(deps: OrderDeps, row: OrderRow, context: CallContext): Promise<ReserveOutcome> {
  // The product refuses to reserve after notAfter, so once the deadline passes no late request can appear.
  const notAfter = new Date(row.created_at.getTime() + deps.reservationWindowMs);
  return deps.products.reserve(row.id, row.items.map((l) => ({ productId: l.productId, quantity: l.quantity })), notAfter, context);
}

/** Records a reservation outcome on a pending order and answers as API.md says. */
async function settleWith(deps: OrderDeps, row: OrderRow, outcome: ReserveOutcome, mode: 'placed' | 'replayed'): Promise<OrderRow> {
  const count = (result: string) => mode === 'placed' && deps.metrics.placed.inc({ result });
  // Nothing was reserved: record why (a concurrent settle may have won; then its outcome is the answer).
  const reject = async (rejection: Record<string, unknown>, result: string) => {
    const done = (await transition(deps.db, row.id, 'pending', 'rejected', { rejection })) ?? (await getOrderRow(deps.db, row.id));
    count(result);
    return answerFor(done);
  };
  switch (outcome.kind) {
    case 'reserved': {
      const p = priced(row.items, outcome.items);
      const moved = await transition(deps.db, row.id, 'pending', 'confirmed', p);
      if (moved) {
        count('confirmed');
        deps.metrics.revenue.inc({ currency: p.currency }, p.totalCents);
      }
      return answerFor(moved ?? (await getOrderRow(deps.db, row.id)));
    }
    case 'insufficient':
      return reject({ reason: 'insufficient-stock', items: outcome.items }, 'rejected');
    case 'not_found':
      return reject({ reason: 'not-found', detail: outcome.detail }, 'not_found');
    case 'refused':
      return reject({ reason: outcome.slug, detail: outcome.detail }, 'rejected');
    case 'unavailable':
      count('pending');
      throw new ServiceUnavailable('The product service is unavailable; the order is recorded as pending and will be settled', { orderId: row.id, status: 'pending' });
  }
}

/** Turns a stored order into the answer for its state: confirmed and the like are returned, rejections are problems. */
function answerFor(row: OrderRow): OrderRow {
  if (row.status === 'rejected') {
    const r = row.rejection ?? {};
    if (r.reason === 'not-found') throw new NotFound(String(r.detail ?? 'Unknown product'));
    if (r.reason !== 'insufficient-stock') throw new UnprocessableEntity(String(r.reason), String(r.detail ?? 'The order cannot be placed'));
    throw new Conflict('insufficient-stock', 'Not enough stock for this order; it was recorded as rejected', { orderId: row.id, items: r.items ?? [] });
  }
  if (row.status === 'pending') {
    throw new ServiceUnavailable('The order is still pending and will be settled', { orderId: row.id, status: 'pending' });
  }
  return row;
}

/** Cancels a confirmed order: releases the reservation (idempotent), then confirmed -> cancelled. A repeat is a no-op. */
export async function cancelOrder(deps: OrderDeps, row: OrderRow, context: CallContext): Promise<Order> {
  if (row.status === 'cancelled') return toOrder(row);
  if (row.status !== 'confirmed') throw new Conflict('not-cancellable', `A ${row.status} order cannot be cancelled`);
  const released = await deps.products.release(row.id, context);
  if (released === 'unavailable') throw new ServiceUnavailable('The product service is unavailable; try cancelling again');
  const done = await transition(deps.db, row.id, 'confirmed', 'cancelled');
  if (done) {
    deps.metrics.cancelled.inc();
    return toOrder(done);
  }
  const now = await getOrderRow(deps.db, row.id);
  if (now.status === 'cancelled') return toOrder(now);
  throw new ProblemError(409, 'not-cancellable', 'Conflict', `A ${now.status} order cannot be cancelled`);
}
