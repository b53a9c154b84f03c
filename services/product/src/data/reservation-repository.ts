import { errorCode, type Database, type Queryable } from '@ecommerce/kit';
import type { Refusal, ReservationStatus } from '@ecommerce/contracts';
import { rowLockBounded } from './product-repository.js';

/** One line of a reservation; a refused reservation is one row with null line columns (LEFT JOIN). */
export interface ReservationLineRow {
  order_id: string;
  status: ReservationStatus;
  refusal: Refusal | null;
  product_id: string | null;
  quantity: number | null;
  unit_price_cents: number | null;
  currency: string | null;
  /** The product's name as the line was reserved (018), or now for a line reserved before (null: no line, or the product row is gone). */
  name: string | null;
  [k: string]: unknown;
}

/** What reserve_stock() answers per line: the stored status and, on a fresh reservation, the stock it left. */
export interface ReserveRow {
  status: ReservationStatus;
  product_id: string | null;
  quantity: number | null;
  unit_price_cents: number | null;
  currency: string | null;
  stock_left: number | null;
  name: string | null;
  replayed: boolean;
  refusal: Refusal | null;
  [k: string]: unknown;
}

/** One line of a reservation as reserve_stock() takes it: the product's units summed, and what the client was shown. */
export interface ReserveLine {
  productId: string;
  quantity: number;
  expectedUnitPriceCents?: number;
  expectedCurrency?: string;
  /** Its lines expected different prices or currencies: no price meets both, so it is refused as price-changed. */
  contradictory?: boolean;
}

export interface AvailabilityRow {
  id: string;
  stock: number;
  archived: boolean;
  price_cents: number;
  currency: string;
  [k: string]: unknown;
}

/** reserve_stock() refused and rolled back; the reason is its error code (migrations/005, 006). */
export type ReserveFailure = 'expired' | 'short' | 'mixed-currency' | 'price-changed';
const FAILURES: Record<string, ReserveFailure> = { EC001: 'expired', EC002: 'short', EC003: 'mixed-currency', EC004: 'price-changed' };

/** Reservations and their lines; the stock they take and give back is the products table's. */
export class ReservationRepository {
  constructor(private readonly db: Database) {}

  /**
   * Reserves every line or none, in one statement (migrations/006). The order id is claimed first, so of
   * concurrent duplicates exactly one decides and the others wait for it and replay its answer. A short first
   * line (a sold-out item) is refused and stored by the call itself: one round trip, one commit.
   */
  async reserve(orderId: string, lines: ReserveLine[], notAfter: string | null): Promise<{ rows: ReserveRow[] } | { failure: ReserveFailure }> {
    // No expectation at all: NULL arrays (nothing to compare), not arrays of NULLs.
    // A contradictory line is sent as -1, a price no product has (prices are >= 0).
    const prices = lines.some((l) => l.expectedUnitPriceCents !== undefined || l.contradictory) ? lines.map((l) => (l.contradictory ? -1 : (l.expectedUnitPriceCents ?? null))) : null;
    const currencies = lines.some((l) => l.expectedCurrency !== undefined) ? lines.map((l) => l.expectedCurrency ?? null) : null;
    const params = [orderId, lines.map((l) => l.productId), lines.map((l) => l.quantity), notAfter, prices, currencies];
    try {
      // The whole reservation in one round trip: migrations/008_reserve_expected_prices.sql (006's first-line refusal
      // stored in the call, plus the prices the customer was shown), as 017_held_units.sql replaced it (the units taken
      // also added to products.held), as 018_reserve_names_lines.sql made it answer and store each line's product name:
      // the name of the row version it charges the price of, kept for replays. (A join here read the products as of this
      // statement's start, before a rename committed while the reservation waited on the row's lock: the new price with
      // the old name.) It waits for the products' row locks (up to the lock_timeout of reserve_stock): on the share of
      // the pool lock waits may hold (Database.lockWaiting), as a release. The join reads nothing any more but stays: it takes products' ACCESS SHARE
      // lock before the function's body is read, so a migration altering products cannot commit between the two and
      // leave this call running the body before it (services/product/test/stock-bound.test.ts, "in flight while 017 runs").
      const res = await this.db.lockWaiting(() =>
        this.db.query<ReserveRow>(
          'reservation_reserve',
          `SELECT r.status, r.product_id, r.quantity, r.unit_price_cents, r.currency, r.stock_left, r.replayed, r.refusal, r.name
           FROM reserve_stock($1, $2::uuid[], $3::integer[], $4::timestamptz, $5::bigint[], $6::text[]) r
           LEFT JOIN products p ON p.id = r.product_id`,
          params,
        ),
      );
      return { rows: res.rows };
    } catch (err) {
      const failure = FAILURES[errorCode(err) ?? ''];
      if (failure) return { failure };
      throw err;
    }
  }

  /** Stores a refusal as the order id's answer; false when a concurrent request stored an answer first. */
  async storeRefusal(orderId: string, refusal: Refusal): Promise<boolean> {
    // After a refused call (rolled back): unless a concurrent request decided first.
    const res = await this.db.query(
      'reservation_refuse',
      `INSERT INTO reservations (order_id, status, refusal) VALUES ($1, 'refused', $2::jsonb) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, JSON.stringify(refusal)],
    );
    return res.rowCount === 1;
  }

  /** Stock, archived flag and price of each product that exists (read outside any transaction). */
  async availability(productIds: string[]): Promise<AvailabilityRow[]> {
    return (await this.db.query<AvailabilityRow>('reservation_availability', 'SELECT id, stock, archived, price_cents, currency FROM products WHERE id = ANY($1::uuid[])', [productIds])).rows;
  }

  /** The reservation's lines by product id; empty when the order id has none. */
  async lines(orderId: string, db: Queryable = this.db): Promise<ReservationLineRow[]> {
    // A refused reservation has no lines: LEFT JOIN, so it is still found.
    const res = await db.query<ReservationLineRow>(
      'reservation_get',
      `SELECT r.order_id, r.status, r.refusal, i.product_id, i.quantity, i.unit_price_cents, i.currency, coalesce(i.name, p.name) AS name
       FROM reservations r LEFT JOIN reservation_items i USING (order_id) LEFT JOIN products p ON p.id = i.product_id
       WHERE r.order_id = $1 ORDER BY i.product_id`,
      [orderId],
    );
    return res.rows;
  }

  /** limit+1 order ids in one status, after `after`. */
  async list(status: ReservationStatus, after: string | null, limit: number): Promise<{ order_id: string; status: ReservationStatus }[]> {
    // Keyset page by order id over one status (the order service's audit walks the held ones); a release's marker
    // (released, no lines: see release) is no reservation.
    const res = await this.db.query<{ order_id: string; status: ReservationStatus }>(
      'reservation_list',
      `SELECT order_id, status FROM reservations
       WHERE status = $1 AND ($2::uuid IS NULL OR order_id > $2::uuid)
         AND (status <> 'released' OR EXISTS (SELECT 1 FROM reservation_items i WHERE i.order_id = reservations.order_id))
       ORDER BY order_id LIMIT $3`,
      [status, after, limit + 1],
    );
    return res.rows;
  }

  /**
   * Flips reserved -> released and gives the stock back in one transaction: only the transaction that flips
   * returns stock, so a release happens once. `released` is false when there was nothing to flip.
   *
   * A release that finds no reservation at all stores the order id as released with no lines (a marker, answered
   * as not found), so no reservation can be taken under it afterwards. Without it, a reservation already running
   * when the order gave up (past the reservation window, its statement waiting on a product's row lock) would
   * commit after this release and hold its stock until the order service's next audit. Its claim on the order id
   * is not yet visible to the flip, but the marker's insert waits for it: if it commits, the flip is tried again
   * and finds it; if it rolls back, the marker stays and the refusal it stores replays the marker.
   */
  async release(orderId: string): Promise<{ lines: ReservationLineRow[]; released: boolean }> {
    // At most ROW_LOCK_TIMEOUT for a row's lock, as a reservation (migrations/016): past its caller's deadline a
    // wait only held a pool connection, and the order service's retries of cancels behind a locked product row
    // filled the pool (reads of other products answered 503). Past it 55P03: 503, nothing released, sent again.
    return rowLockBounded(this.db, async (tx) => {
      const flip = () =>
        tx.query('reservation_mark_released', `UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1 AND status = 'reserved' RETURNING order_id`, [
          orderId,
        ]);
      let flipped = await flip();
      let lines = await this.lines(orderId, tx);
      if (flipped.rowCount === 0 && lines.length === 0) {
        const marked = await tx.query(
          'reservation_mark_never_taken',
          `INSERT INTO reservations (order_id, status, released_at) VALUES ($1, 'released', now()) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
          [orderId],
        );
        if (marked.rowCount === 1) return { lines: [], released: false };
        // A reservation committed while the insert waited for it.
        flipped = await flip();
        lines = await this.lines(orderId, tx);
      }
      if (flipped.rowCount === 0) return { lines, released: false };
      // Lines come back sorted by product id: the same lock order as reservations, so no deadlock.
      for (const line of lines) {
        if (line.product_id === null) continue;
        await tx.query('reservation_return_stock', 'UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now() WHERE id = $1', [line.product_id, line.quantity]);
      }
      return { lines, released: true };
    });
  }
}
