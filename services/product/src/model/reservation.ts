import { NotFound, ProblemError, pgErrorCode, type Database, type Queryable } from '@ecommerce/kit';
import { reservationQueries as Q, run } from './db/queries.js';
import { isUuid } from './catalog.js';

export type ReservationStatus = 'reserved' | 'released' | 'refused';
export interface ReservationItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}
/** Why a reservation was refused; stored with the order id, so every later request for it gets the same answer. */
export type Refusal =
  | { reason: 'insufficient-stock'; items: { productId: string; requested: number; available: number }[] }
  | { reason: 'unknown-product'; productIds: string[] }
  | { reason: 'mixed-currency' }
  | { reason: 'expired'; notAfter: string };
export type RefusalReason = Refusal['reason'];

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItem[];
  refusal?: Refusal;
}
export interface ReserveRequest {
  orderId: string;
  items: { productId: string; quantity: number }[];
  /** RFC 3339 instant after which no new reservation may be taken for this order (replays still answer). */
  notAfter?: string;
}

export interface ReserveOutcome {
  reservation: Reservation;
  /** True when the orderId was already reserved (or released): the stored answer, nothing changed. */
  replayed: boolean;
  /** Products whose stock this reservation took to zero. */
  stockouts: number;
}

const DETAIL: Record<RefusalReason, string> = {
  'insufficient-stock': 'Not enough stock for every item; nothing was reserved',
  'unknown-product': 'Unknown or archived product(s); nothing was reserved',
  'mixed-currency': 'All items of one reservation must share one currency; nothing was reserved',
  expired: 'The reservation window closed; nothing was reserved',
};

/**
 * The one refusal answer of the reservation API: 409 `reservation-refused` with the `reason` and its details
 * (`items` for a shortage, `productIds` for unknown products). It is final for the order id: a repeat, even
 * after a restock, answers the same.
 */
export class ReservationRefused extends ProblemError {
  constructor(
    readonly orderId: string,
    readonly refusal: Refusal,
    readonly replayed: boolean,
  ) {
    super(409, 'reservation-refused', 'Reservation refused', DETAIL[refusal.reason], { orderId, ...refusal });
  }
}

/** Same product twice counts as the sum; sorted by id so every transaction locks products in one order. */
export function sumByProduct(items: ReserveRequest['items']): [string, number][] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) {
    const id = productId.toLowerCase();
    totals.set(id, (totals.get(id) ?? 0) + quantity);
  }
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

interface ReservationLine {
  order_id: string;
  status: ReservationStatus;
  refusal: Refusal | null;
  product_id: string | null;
  quantity: number | null;
  unit_price_cents: number | null;
  currency: string | null;
  [k: string]: unknown;
}

function linesOf(rows: { product_id: string | null; quantity: number | null; unit_price_cents: number | null; currency: string | null }[]): ReservationItem[] {
  return rows
    .filter((r) => r.product_id !== null)
    .map((r) => ({ productId: r.product_id!, quantity: r.quantity!, unitPriceCents: r.unit_price_cents!, currency: r.currency! }));
}

async function readReservation(db: Queryable, orderId: string): Promise<Reservation | null> {
  const rows = (await run<ReservationLine>(db, Q.get, [orderId])).rows;
  const first = rows[0];
  if (!first) return null;
  return { orderId: first.order_id, status: first.status, items: linesOf(rows), ...(first.refusal ? { refusal: first.refusal } : {}) };
}

interface ReserveRow {
  status: ReservationStatus;
  product_id: string | null;
  quantity: number | null;
  unit_price_cents: number | null;
  currency: string | null;
  stock_left: number | null;
  replayed: boolean;
  refusal: Refusal | null;
  [k: string]: unknown;
}

/**
 * Reserves every line or none, in one statement (migrations/005). The order id is claimed first, so of
 * concurrent duplicates exactly one decides and the others wait for it and replay its answer. A refusal rolls
 * the call back and is then stored under the order id (refuseOnce), so it is final. Throws ReservationRefused.
 */
export async function reserveStock(db: Database, req: ReserveRequest): Promise<ReserveOutcome> {
  const lines = sumByProduct(req.items);
  let rows: ReserveRow[];
  try {
    rows = (await run<ReserveRow>(db, Q.reserve, [req.orderId, lines.map(([id]) => id), lines.map(([, q]) => q), req.notAfter ?? null])).rows;
  } catch (err) {
    const code = pgErrorCode(err);
    if (code === 'EC001') return refuseOnce(db, req.orderId, { reason: 'expired', notAfter: req.notAfter ?? '' });
    if (code === 'EC002') return refuseOnce(db, req.orderId, await explainShortage(db, lines));
    if (code === 'EC003') return refuseOnce(db, req.orderId, { reason: 'mixed-currency' });
    throw err;
  }
  const first = rows[0];
  if (!first) throw new Error(`reservation ${req.orderId} has no lines`);
  if (first.status === 'refused') throw new ReservationRefused(req.orderId, first.refusal ?? { reason: 'expired', notAfter: req.notAfter ?? '' }, first.replayed);
  return {
    reservation: { orderId: req.orderId, status: first.status, items: linesOf(rows) },
    replayed: first.replayed,
    stockouts: rows.filter((r) => r.stock_left === 0).length,
  };
}

/** Stores the refusal as the order id's answer; if a concurrent request stored one first, that one is the answer. */
async function refuseOnce(db: Database, orderId: string, refusal: Refusal): Promise<never | ReserveOutcome> {
  const stored = await run(db, Q.refuse, [orderId, JSON.stringify(refusal)]);
  if (stored.rowCount === 1) throw new ReservationRefused(orderId, refusal, false);
  const existing = await readReservation(db, orderId);
  if (!existing) throw new Error(`reservation ${orderId} vanished`);
  if (existing.status === 'refused') throw new ReservationRefused(orderId, existing.refusal ?? refusal, true);
  return { reservation: existing, replayed: true, stockouts: 0 };
}

/** After the rollback: which lines are unknown, else which are short. Read outside the transaction. */
async function explainShortage(db: Queryable, lines: [string, number][]): Promise<Refusal> {
  const res = await run<{ id: string; stock: number; archived: boolean }>(db, Q.availability, [lines.map(([id]) => id)]);
  const byId = new Map(res.rows.map((r) => [r.id, r]));
  const unknown = lines.filter(([id]) => !byId.get(id) || byId.get(id)!.archived).map(([id]) => id);
  if (unknown.length) return { reason: 'unknown-product', productIds: unknown };
  const all = lines.map(([productId, requested]) => ({ productId, requested, available: byId.get(productId)!.stock }));
  const short = all.filter((l) => l.available < l.requested);
  // Stock may have been returned between the rollback and this read: then name every line.
  return { reason: 'insufficient-stock', items: short.length ? short : all };
}

export async function getReservation(db: Queryable, orderId: string): Promise<Reservation> {
  const found = isUuid(orderId) ? await readReservation(db, orderId) : null;
  if (!found) throw new NotFound('Reservation not found');
  return found;
}

/** One keyset page of reservations in one status, by order id (the order service's audit walks them). */
export async function listReservations(db: Queryable, status: ReservationStatus, after: string | null, limit: number): Promise<{ items: { orderId: string; status: ReservationStatus }[]; next: string | null }> {
  const rows = (await run<{ order_id: string; status: ReservationStatus }>(db, Q.list, [status, after, limit + 1])).rows;
  const page = rows.slice(0, limit).map((r) => ({ orderId: r.order_id, status: r.status }));
  return { items: page, next: rows.length > limit ? page[page.length - 1]!.orderId : null };
}

export interface ReleaseOutcome {
  reservation: Reservation;
  /** False when it was already released (or was refused): nothing changed. */
  released: boolean;
}

/** Releases exactly once: only the transaction that flips reserved -> released gives the stock back. */
export async function releaseReservation(db: Database, orderId: string): Promise<ReleaseOutcome> {
  if (!isUuid(orderId)) throw new NotFound('Reservation not found');
  return db.tx(async (tx) => {
    const flipped = await run(tx, Q.markReleased, [orderId]);
    const reservation = await readReservation(tx, orderId);
    if (!reservation) throw new NotFound('Reservation not found');
    if (flipped.rowCount === 0) return { reservation, released: false };
    // Items come back sorted by product id: the same lock order as reservations, so no deadlock.
    for (const item of reservation.items) await run(tx, Q.returnStock, [item.productId, item.quantity]);
    return { reservation, released: true };
  });
}
