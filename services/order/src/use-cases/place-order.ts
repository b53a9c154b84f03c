import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Conflict,
  ProblemError,
  ServiceUnavailable,
  UnprocessableEntity,
  uuidv7,
  type CallContext,
  type Counter,
  type Database,
} from '@ecommerce/kit';
import type { CrashPoint } from '../config.js';
import {
  claimDrive,
  findByIdempotencyKey,
  getOrderRow,
  insertPendingOrder,
  releaseLeases,
  toOrder,
  transition,
  type Order,
  type OrderLine,
  type OrderRow,
} from '../data/order-repository.js';
import type { ProductClient, Refusal, ReservedLine, ReserveOutcome } from '../clients/product-client.js';

export interface OrderMetrics {
  placed: Counter<'result'>;
  settled: Counter<'result'>;
  cancelled: Counter;
  revenue: Counter<'currency'>;
  repairs: Counter<'kind'>;
}

export interface OrderDeps {
  db: Database;
  products: ProductClient;
  metrics: OrderMetrics;
  pendingDeadlineMs: number;
  /** Test-only crash point (FAULT_CRASH_POINT), to prove recovery from a process killed mid-placement or mid-cancel. */
  crashPoint: CrashPoint;
  /** How long before the deadline a reservation may still be taken (see notAfter). */
  reservationWindowMs: number;
  /** How long one driver owns an order in flight: longer than a reservation call with its retries. */
  driveLeaseMs: number;
  limits: { maxQuantityPerProduct: number; maxUnitsPerHour: number };
}

export interface PlaceResult {
  order: Order;
  /** 201 for a new order, 200 for a replay of the same Idempotency-Key. */
  status: 200 | 201;
}

/** The problem a rejected or failed order answers, stored with it (orders.rejection) so a replay answers the same. */
export interface StoredProblem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  [extension: string]: unknown;
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

function stored(err: ProblemError): StoredProblem {
  return { ...err.extensions, status: err.status, slug: err.slug, title: err.title, detail: err.message };
}

/**
 * THE mapping of a product refusal (409 reservation-refused, by reason) to the order's final state and the
 * problem its client gets, now and on every replay. Used by the request path and the reconciler alike.
 */
export function refusalOutcome(orderId: string, refusal: Refusal): { to: 'rejected' | 'failed'; problem: StoredProblem } {
  switch (refusal.reason) {
    case 'insufficient-stock':
      return { to: 'rejected', problem: stored(new Conflict('insufficient-stock', 'Not enough stock for this order; it was recorded as rejected', { orderId, items: refusal.items ?? [] })) };
    case 'unknown-product':
      return { to: 'rejected', problem: stored(new ProblemError(404, 'not-found', 'Not found', 'Unknown or archived product(s); the order was recorded as rejected', { orderId, productIds: refusal.productIds ?? [] })) };
    case 'mixed-currency':
      return { to: 'rejected', problem: { ...stored(new UnprocessableEntity('mixed-currency', 'All items of one order must share one currency; the order was recorded as rejected')), orderId } };
    case 'expired':
    case 'released':
      // Not the customer's request: the order could not be reserved in its window (the product service was
      // unreachable until the deadline). Recorded as failed; the customer may place it again under a new key.
      return {
        to: 'failed',
        problem: stored(new Conflict('order-failed', 'The order could not be reserved before its deadline; it was recorded as failed and nothing is held', { orderId, reason: refusal.reason })),
      };
    default:
      return { to: 'rejected', problem: { ...stored(new UnprocessableEntity('reservation-refused', `The product service refused the order (${refusal.reason})`)), orderId, reason: refusal.reason } };
  }
}

/** The answer for an order's state: confirmed and later states are the order; a rejected or failed one throws its stored problem. */
export function answerFor(row: OrderRow): OrderRow {
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
    throw new ServiceUnavailable('The product service is unavailable; the order is recorded as pending and will be settled', { orderId: row.id, status: 'pending' });
  }
  return row;
}

export interface DriveResult {
  row: OrderRow;
  /** This driver's write moved the order (false: a concurrent driver had already, or nothing could be decided). */
  moved: boolean;
  /** Set when the product service did not answer: the order is unchanged and its lease given back. */
  unavailable?: string;
}

/** Test only: the crash points cut a client's request (context set), never the reconciler's work. */
function crash(deps: OrderDeps, point: CrashPoint, context: CallContext | undefined): void {
  if (context && deps.crashPoint === point) process.kill(process.pid, 'SIGKILL');
}

/**
 * THE settle step, for the request path, a replay and the reconciler: the caller holds the order's drive lease.
 * pending: reserve by order id (idempotent; a refusal is final on the product side) and record the outcome;
 * cancelling: release by order id (idempotent) and record cancelled. When the product service does not answer,
 * nothing changes and the lease is given back at once, so the next driver need not wait for it to expire.
 */
export async function drive(deps: OrderDeps, row: OrderRow, context?: CallContext): Promise<DriveResult> {
  if (row.status === 'cancelling') return finishCancel(deps, row, context);
  if (row.status !== 'pending') return { row, moved: false };
  const outcome = await reserveFor(deps, row, context);
  crash(deps, 'after-reserve', context);
  let moved: OrderRow | null = null;
  switch (outcome.kind) {
    case 'reserved': {
      const p = priced(row.items, outcome.items);
      moved = await transition(deps.db, row.id, 'pending', 'confirmed', p);
      if (moved) deps.metrics.revenue.inc({ currency: p.currency }, p.totalCents);
      break;
    }
    case 'refused': {
      const { to, problem } = refusalOutcome(row.id, outcome.refusal);
      moved = await transition(deps.db, row.id, 'pending', to, { rejection: problem });
      break;
    }
    case 'unavailable':
      await releaseLeases(deps.db, [row.id]);
      return { row, moved: false, unavailable: outcome.reason };
  }
  return { row: moved ?? (await getOrderRow(deps.db, row.id)), moved: moved !== null };
}

async function finishCancel(deps: OrderDeps, row: OrderRow, context?: CallContext): Promise<DriveResult> {
  const released = await deps.products.release(row.id, context);
  crash(deps, 'after-release', context);
  if (released === 'unavailable') {
    await releaseLeases(deps.db, [row.id]);
    return { row, moved: false, unavailable: 'product service unavailable' };
  }
  const done = await transition(deps.db, row.id, 'cancelling', 'cancelled');
  if (done) deps.metrics.cancelled.inc();
  return { row: done ?? (await getOrderRow(deps.db, row.id)), moved: done !== null };
}

function reserveFor(deps: OrderDeps, row: OrderRow, context?: CallContext): Promise<ReserveOutcome> {
  // The product refuses to reserve after notAfter, so once the deadline passes no late request can appear.
  const notAfter = new Date(row.created_at.getTime() + deps.reservationWindowMs);
  return deps.products.reserve(row.id, row.items.map((l) => ({ productId: l.productId, quantity: l.quantity })), notAfter, context);
}

/**
 * An order in flight (pending or cancelling) has one driver at a time. A second request for it (a replay, a
 * repeated cancel) takes the lease when it is free and drives the order itself, or waits for the driver that
 * holds it and answers with its result. Bounded: after about one lease it answers with the order as it is.
 */
async function driveOrAwait(deps: OrderDeps, row: OrderRow, context: CallContext): Promise<OrderRow> {
  const until = Date.now() + deps.driveLeaseMs + 1_000;
  let delay = 10;
  while (row.status === 'pending' || row.status === 'cancelling') {
    const claimed = await claimDrive(deps.db, row.id, deps.driveLeaseMs);
    if (claimed) return (await drive(deps, claimed, context)).row;
    if (Date.now() > until) return row;
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
    row = await getOrderRow(deps.db, row.id);
  }
  return row;
}

const PLACED_RESULT: Record<string, string> = { confirmed: 'confirmed', rejected: 'rejected', failed: 'failed', pending: 'pending' };

/** Per-order limits (MAX_QUANTITY_PER_LINE): the units of each product, summed over its lines. */
function checkQuantities(deps: OrderDeps, lines: { productId: string; quantity: number }[]): void {
  const perProduct = new Map<string, number>();
  for (const l of lines) perProduct.set(l.productId.toLowerCase(), (perProduct.get(l.productId.toLowerCase()) ?? 0) + l.quantity);
  const max = deps.limits.maxQuantityPerProduct;
  const over = [...perProduct].filter(([, q]) => q > max).map(([productId, requested]) => ({ productId, requested, max }));
  if (over.length) {
    throw new ProblemError(422, 'quantity-limit', 'Unprocessable entity', `At most ${max} units of one product per order`, { items: over });
  }
}

/**
 * Order placement (ARCHITECTURE.md, "Order placement, step by step"): write `pending` with a drive lease,
 * reserve by orderId, then record the outcome. A crash or timeout in between leaves `pending`, which a replay
 * or the reconciler settles once the lease is free.
 */
export async function placeOrder(
  deps: OrderDeps,
  userId: string,
  key: string,
  lines: { productId: string; quantity: number }[],
  context: CallContext,
): Promise<PlaceResult> {
  checkQuantities(deps, lines);
  const hash = requestHash(lines);
  const inserted = await insertPendingOrder(deps.db, {
    id: uuidv7(),
    userId,
    items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPriceCents: null })),
    key,
    requestHash: hash,
    deadlineMs: deps.pendingDeadlineMs,
    leaseMs: deps.driveLeaseMs,
    maxUnitsPerHour: deps.limits.maxUnitsPerHour,
  });
  if (inserted) {
    crash(deps, 'after-pending', context);
    const { row } = await drive(deps, inserted, context);
    const problem = row.status === 'rejected' && (row.rejection as StoredProblem | null)?.status === 404 ? 'not_found' : undefined;
    deps.metrics.placed.inc({ result: problem ?? PLACED_RESULT[row.status] ?? 'confirmed' });
    return { order: toOrder(answerFor(row)), status: 201 };
  }

  const existing = await findByIdempotencyKey(deps.db, userId, key);
  if (!existing) throw new Error('idempotency conflict without a stored order');
  if (existing.request_hash !== hash) {
    throw new UnprocessableEntity('idempotency-key-reused', 'This Idempotency-Key was used with a different request body');
  }
  deps.metrics.placed.inc({ result: 'replayed' });
  // A replay answers what the first request answered: the order, or its stored problem with its status code.
  // A still-pending order is driven (or awaited) first, so client retries help.
  const row = existing.status === 'pending' ? await driveOrAwait(deps, existing, context) : existing;
  return { order: toOrder(answerFor(row)), status: 200 };
}

/**
 * Cancels a confirmed order, durably: confirmed -> cancelling (the intent, with this request's drive lease),
 * release the reservation (idempotent), cancelling -> cancelled. A crash in between leaves `cancelling`, which
 * a repeat or the reconciler finishes. A repeat of a finished cancel is a no-op.
 */
export async function cancelOrder(deps: OrderDeps, row: OrderRow, context: CallContext): Promise<Order> {
  if (row.status === 'confirmed') {
    const intent = await transition(deps.db, row.id, 'confirmed', 'cancelling', { leaseMs: deps.driveLeaseMs });
    if (intent) {
      crash(deps, 'after-cancelling', context);
      row = (await drive(deps, intent, context)).row;
    } else {
      row = await getOrderRow(deps.db, row.id);
    }
  }
  if (row.status === 'cancelling') row = await driveOrAwait(deps, row, context);
  if (row.status === 'cancelled') return toOrder(row);
  if (row.status === 'cancelling') {
    throw new ServiceUnavailable('The product service is unavailable; the cancellation is recorded and will be finished', { orderId: row.id, status: 'cancelling' });
  }
  throw new ProblemError(409, 'not-cancellable', 'Conflict', `A ${row.status} order cannot be cancelled`);
}
