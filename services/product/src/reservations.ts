import { Conflict, NotFound, ProblemError, UnprocessableEntity, pgErrorCode, type Database, type Queryable } from '@ecommerce/kit';
import { reservationQueries as Q, run, type ReservationLineRow } from './db/queries.js';
import { isUuid } from './catalog.js';

export type ReservationStatus = 'reserved' | 'released';
export interface ReservationItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItem[];
}
export interface ReserveRequest {
  orderId: string;
  items: { productId: string; quantity: number }[];
  /** RFC 3339 instant after which no new reservation may be taken for this order (replays still answer). */
  notAfter?: string;
}

export interface ReserveOutcome {
  reservation: Reservation;
  /** True when the orderId was already reserved: the stored answer, nothing changed. */
  replayed: boolean;
  /** Products whose stock this reservation took to zero. */
  stockouts: number;
}

export class InsufficientStock extends Conflict {
  constructor(items: { productId: string; requested: number; available: number }[]) {
    super('insufficient-stock', 'Not enough stock for every item; nothing was reserved', { items });
  }
}

export class ReservationExpired extends Conflict {
  constructor(notAfter: string) {
    super('reservation-expired', `The reservation window closed at ${notAfter}; nothing was reserved`);
  }
}

export class UnknownProducts extends ProblemError {
  constructor(readonly productIds: string[]) {
    super(404, 'not-found', 'Not found', 'Unknown or archived product(s); nothing was reserved', { productIds });
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

function toReservation(rows: ReservationLineRow[]): Reservation | null {
  const first = rows[0];
  if (!first) return null;
  return {
    orderId: first.order_id,
    status: first.status,
    items: rows.map((r) => ({ productId: r.product_id, quantity: r.quantity, unitPriceCents: r.unit_price_cents, currency: r.currency })),
  };
}

async function readReservation(db: Queryable, orderId: string): Promise<Reservation | null> {
  return toReservation((await run<ReservationLineRow>(db, Q.get, [orderId])).rows);
}


/**
 * Reserves every line or none, in one transaction. The reservation row is claimed first (ON CONFLICT DO NOTHING),
 * so of concurrent duplicates exactly one takes stock and the others wait for it and replay its result.
 */
export async function reserveStock(db: Database, req: ReserveRequest): Promise<ReserveOutcome> {
  const lines = sumByProduct(req.items);
  let rows: ReserveRow[];
  try {
    // One statement, one implicit transaction: any failed line rolls back the claim and every line before it.
    rows = (await run<ReserveRow>(db, Q.reserve, [req.orderId, lines.map(([id]) => id), lines.map(([, q]) => q), req.notAfter ?? null])).rows;
  } catch (err) {
    const code = pgErrorCode(err);
    if (code === 'EC001') throw new ReservationExpired(req.notAfter ?? '');
    if (code === 'EC002') throw await explainShortage(db, lines);
    if (code === 'EC003') throw new UnprocessableEntity('mixed-currency', 'All items of one reservation must share one currency');
    throw err;
  }
  const first = rows[0];
  if (!first) throw new Error(`reservation ${req.orderId} has no lines`);
  const items = rows.map((r) => ({ productId: r.product_id, quantity: r.quantity, unitPriceCents: r.unit_price_cents, currency: r.currency }));
  return {
    reservation: { orderId: req.orderId, status: first.status, items },
    replayed: first.replayed,
    stockouts: rows.filter((r) => r.stock_left === 0).length,
  };
}

interface ReserveRow {
  status: ReservationStatus;
  product_id: string;
  quantity: number;
  unit_price_cents: number;
  currency: string;
  stock_left: number | null;
  replayed: boolean;
  [k: string]: unknown;
}

/** After the rollback: which lines are unknown (404) or short (409). Read outside the transaction, for the message only. */
async function explainShortage(db: Queryable, lines: [string, number][]): Promise<ProblemError> {
  const res = await run<{ id: string; stock: number; archived: boolean }>(db, Q.availability, [lines.map(([id]) => id)]);
  const byId = new Map(res.rows.map((r) => [r.id, r]));
  const unknown = lines.filter(([id]) => !byId.get(id) || byId.get(id)!.archived).map(([id]) => id);
  if (unknown.length) return new UnknownProducts(unknown);
  const short = lines
    .map(([productId, requested]) => ({ productId, requested, available: byId.get(productId)!.stock }))
    .filter((l) => l.available < l.requested);
  // Stock may have been returned between the rollback and this read; the answer still names every line then.
  return new InsufficientStock(short.length ? short : lines.map(([productId, requested]) => ({ productId, requested, available: byId.get(productId)!.stock })));
}

export async function getReservation(db: Queryable, orderId: string): Promise<Reservation> {
  const found = isUuid(orderId) ? await readReservation(db, orderId) : null;
  if (!found) throw new NotFound('Reservation not found');
  return found;
}

export interface ReleaseOutcome {
  reservation: Reservation;
  /** False when it was already released: nothing changed. */
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
