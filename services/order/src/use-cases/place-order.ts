import { createHash } from 'node:crypto';
import { Conflict, ProblemError, ServiceUnavailable, UnprocessableEntity, traceparentOf, uuidv7 } from '@ecommerce/kit';
import { expectationOf, toOrder, type Order, type OrderRow, type RequestedLine, type StoredProblem } from '../model/order.js';
import type { RequestContext } from '../model/request-context.js';
import type { OrderDeps } from './order-deps.js';
import { settleOrAwait, settleOrder } from './settle-order.js';

export interface PlaceOrderInput {
  userId: string;
  /** The client's Idempotency-Key: the same key and body answer the first request's answer. */
  key: string;
  lines: RequestedLine[];
}

export interface PlaceResult {
  order: Order;
  /** 201 for a new order, 200 for a replay of the same Idempotency-Key. */
  status: 200 | 201;
}

const PLACED_RESULT: Record<string, string> = { confirmed: 'confirmed', rejected: 'rejected', failed: 'failed', pending: 'pending' };

/**
 * Order placement (docs/design.md, "Order placement and recovery"): write `pending` with a drive lease,
 * reserve by orderId, then record the outcome. A crash or timeout in between leaves `pending`, which a replay
 * or the reconciler settles once the lease is free.
 */
export async function placeOrder(deps: OrderDeps, { userId, key, lines: asSent }: PlaceOrderInput, context: RequestContext): Promise<PlaceResult> {
  // Ids in the form the product service uses (lower case), whatever case the client sent: for the limits, the
  // replay hash and the stored lines alike.
  const lines = asSent.map((l) => ({ ...l, productId: l.productId.toLowerCase() }));
  checkQuantities(deps, lines);
  const hash = requestHash(lines);
  const inserted = await deps.repository.insertPending({
    id: uuidv7(),
    userId,
    items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPriceCents: null, ...expectationOf(l) })),
    key,
    requestHash: hash,
    deadlineMs: deps.pendingDeadlineMs,
    leaseMs: deps.driveLeaseMs,
    maxUnitsPerHour: deps.limits.maxUnitsPerHour,
    // Only a recorded trace can be linked to: untraced (no SDK) or unsampled, nothing is stored (60 bytes less per row version).
    traceparent: context.trace.sampled ? traceparentOf(context.trace) : null,
  });
  if (inserted) {
    const { row } = await settleOrder(deps, inserted, context);
    const problem = row.status === 'rejected' && (row.rejection as StoredProblem | null)?.status === 404 ? 'not_found' : undefined;
    deps.metrics.placed.inc({ result: problem ?? PLACED_RESULT[row.status] ?? 'confirmed' });
    return { order: toOrder(answerFor(row)), status: 201 };
  }

  const existing = await deps.repository.findByIdempotencyKey(userId, key);
  if (!existing) throw new Error('idempotency conflict without a stored order');
  if (existing.request_hash !== hash) {
    throw new UnprocessableEntity('idempotency-key-reused', 'This Idempotency-Key was used with a different request body');
  }
  deps.metrics.placed.inc({ result: 'replayed' });
  // A replay answers what the first request answered: the order, or its stored problem with its status code.
  // A still-pending order is settled (or awaited) first, so client retries help.
  const { row, retryAfterSeconds } = existing.status === 'pending' ? await settleOrAwait(deps, existing, context) : { row: existing };
  return { order: toOrder(answerFor(row, retryAfterSeconds)), status: 200 };
}

/** Per-order limits (MAX_QUANTITY_PER_LINE): the units of each product, summed over its lines (ids in lower case). */
function checkQuantities(deps: OrderDeps, lines: RequestedLine[]): void {
  const perProduct = new Map<string, number>();
  for (const l of lines) perProduct.set(l.productId, (perProduct.get(l.productId) ?? 0) + l.quantity);
  const max = deps.limits.maxQuantityPerProduct;
  const over = [...perProduct].filter(([, q]) => q > max).map(([productId, requested]) => ({ productId, requested, max }));
  if (over.length) {
    throw new ProblemError(422, 'quantity-limit', 'Unprocessable entity', `At most ${max} units of one product per order`, { items: over });
  }
}

/**
 * Canonical hash of what the client asked for, to tell a replay from a different request under the same key. A
 * line without price expectations hashes as it always did ([id, quantity]), so replays of older orders match.
 */
function requestHash(items: RequestedLine[]): string {
  const line = (i: RequestedLine) =>
    i.expectedUnitPriceCents === undefined && i.expectedCurrency === undefined
      ? [i.productId, i.quantity]
      : [i.productId, i.quantity, i.expectedUnitPriceCents ?? null, i.expectedCurrency ?? null];
  return createHash('sha256').update(JSON.stringify(items.map(line))).digest('hex');
}

/**
 * The answer for an order's state: confirmed and later states are the order; a rejected or failed one throws its
 * stored problem; a pending one is a 503, whose Retry-After is when another driver's lease ends if one holds it.
 */
function answerFor(row: OrderRow, driverBusySeconds?: number): OrderRow {
  if (row.status === 'rejected' || row.status === 'failed') {
    const p = row.rejection ?? {};
    if (typeof p.status === 'number' && typeof p.slug === 'string') {
      const { status, slug, title, detail, ...extensions } = p as StoredProblem;
      throw new ProblemError(status, slug, title, detail, extensions);
    }
    // Orders written before problems were stored ({ reason, items | detail }).
    if (row.status === 'failed') throw new Conflict('order-failed', 'The order could not be reserved before its deadline; it was recorded as failed', { orderId: row.id, reason: 'expired' });
    if (p.reason === 'not-found') throw new ProblemError(404, 'not-found', 'Not found', String(p.detail ?? 'Unknown product'), { orderId: row.id });
    if (p.reason === 'insufficient-stock') throw new Conflict('insufficient-stock', 'Not enough stock for this order; it was recorded as rejected', { orderId: row.id, items: p.items ?? [] });
    throw new UnprocessableEntity(String(p.reason ?? 'rejected'), String(p.detail ?? 'The order cannot be placed'));
  }
  if (row.status === 'pending') {
    if (driverBusySeconds !== undefined) {
      throw new ServiceUnavailable(
        'An earlier request with this Idempotency-Key is still placing the order (or was cut off); retry with the same key after Retry-After seconds',
        { orderId: row.id, orderStatus: 'pending' },
        driverBusySeconds,
      );
    }
    throw new ServiceUnavailable('The product service is unavailable; the order is recorded as pending and will be settled', { orderId: row.id, orderStatus: 'pending' });
  }
  return row;
}
