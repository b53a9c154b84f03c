import { ProblemError, isUuid } from '@ecommerce/kit';
import type { Refusal, RefusalReason, ReservationStatus, ReserveRequest } from '@ecommerce/contracts';
import type { ReservationLineRow, ReserveLine } from '../data/reservation-repository.js';

export interface ReservationItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
  /** The product's name as the line was reserved, the row version whose price it carries (the order keeps it as what was bought). */
  name?: string;
}

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItem[];
  refusal?: Refusal;
}

export interface ReserveOutcome {
  reservation: Reservation;
  /** True when the orderId was already reserved (or released): the stored answer, nothing changed. */
  replayed: boolean;
  /** Products whose stock this reservation took to zero. */
  stockouts: number;
}

export interface ReleaseOutcome {
  reservation: Reservation;
  /** False when it was already released (or was refused): nothing changed. */
  released: boolean;
}

const DETAIL: Record<RefusalReason, string> = {
  'insufficient-stock': 'Not enough stock for every item; nothing was reserved',
  'unknown-product': 'One or more products are unknown or archived; nothing was reserved',
  'mixed-currency': 'All items of one reservation must share one currency; nothing was reserved',
  expired: 'The reservation window closed; nothing was reserved',
  'price-changed': 'A product is priced otherwise than the client expected; nothing was reserved',
};

/**
 * Each refusal's status and problem type: the shared contract's for the two it names (API.md: 409
 * `insufficient-stock` with `items`, 404 for an unknown product), the order API's own for mixed currencies (422) and
 * a price changed (409), and the reservation window's (409). Every refusal also carries `orderId` and `reason`, by
 * which the order service reads it, whatever its status.
 */
const ANSWER: Record<RefusalReason, [status: number, type: string, title: string]> = {
  'insufficient-stock': [409, 'insufficient-stock', 'Insufficient stock'],
  'unknown-product': [404, 'not-found', 'Not found'],
  'mixed-currency': [422, 'mixed-currency', 'Mixed currency'],
  'price-changed': [409, 'price-changed', 'Price changed'],
  expired: [409, 'reservation-expired', 'Reservation expired'],
};

/**
 * The refusal answer of the reservation API (ANSWER above), with the `reason` and its details (`items` for a
 * shortage, `productIds` for unknown products). It is final for the order id: a repeat, even after a restock,
 * answers the same.
 */
export class ReservationRefused extends ProblemError {
  constructor(
    readonly orderId: string,
    readonly refusal: Refusal,
    readonly replayed: boolean,
  ) {
    const [status, type, title] = ANSWER[refusal.reason];
    super(status, type, title, DETAIL[refusal.reason], { orderId, ...refusal });
  }

  /**
   * The same refusal as the previous release answered every one: 409 `reservation-refused` with `orderId`, `reason` and
   * details, for a caller that did not ask for the statuses above (REFUSAL_STATUSES_PREFERENCE in the contracts).
   */
  asPreviousRelease(): ProblemError {
    return new ProblemError(409, 'reservation-refused', 'Reservation refused', DETAIL[this.refusal.reason], { orderId: this.orderId, ...this.refusal });
  }
}

/**
 * Same product twice counts as the sum; sorted by id so every transaction locks products in one order. Its
 * expected price and currency are the lines' own; two lines that expect different ones can never both hold, so
 * the product is marked contradictory (no expectation is kept) and the reservation is refused as price-changed.
 */
export function sumByProduct(items: ReserveRequest['items']): ReserveLine[] {
  const totals = new Map<string, ReserveLine>();
  for (const { productId, quantity, expectedUnitPriceCents, expectedCurrency } of items) {
    const id = productId.toLowerCase();
    const line = totals.get(id) ?? { productId: id, quantity: 0 };
    line.quantity += quantity;
    const price = merged(line.expectedUnitPriceCents, expectedUnitPriceCents);
    const currency = merged(line.expectedCurrency, expectedCurrency);
    if (line.contradictory || price === CONTRADICTION || currency === CONTRADICTION) {
      line.contradictory = true;
      delete line.expectedUnitPriceCents;
      delete line.expectedCurrency;
    } else {
      if (price !== undefined) line.expectedUnitPriceCents = price;
      if (currency !== undefined) line.expectedCurrency = currency;
    }
    totals.set(id, line);
  }
  return [...totals.values()].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

const CONTRADICTION = Symbol('contradiction');

function merged<T>(held: T | undefined, next: T | undefined): T | undefined | typeof CONTRADICTION {
  if (next === undefined) return held;
  if (held === undefined || held === next) return next;
  return CONTRADICTION;
}

type LineColumns = Pick<ReservationLineRow, 'product_id' | 'quantity' | 'unit_price_cents' | 'currency' | 'name'>;

/** The reserved lines of stored rows (a refused reservation's single row has none). */
export function itemsOf(rows: LineColumns[]): ReservationItem[] {
  return rows
    .filter((r) => r.product_id !== null)
    .map((r) => ({ productId: r.product_id!, quantity: r.quantity!, unitPriceCents: r.unit_price_cents!, currency: r.currency!, ...(r.name !== null ? { name: r.name } : {}) }));
}

/** The reservation its stored rows describe, or null when there are none. */
export function toReservation(rows: ReservationLineRow[]): Reservation | null {
  const first = rows[0];
  if (!first) return null;
  return { orderId: first.order_id, status: first.status, items: itemsOf(rows), ...(first.refusal ? { refusal: first.refusal } : {}) };
}

/**
 * The reservation its stored rows describe, or null when there are none or they are only the marker of a release
 * that came first (released, no lines: nothing was ever taken under that order id; ReservationRepository.release).
 */
/**
 * The answer to a read or a release of a refused order id: 404, as the shared contract has it (a refusal reserved
 * nothing, and GET and DELETE answer 404 where nothing is reserved), with the order id, the reason and the stored
 * refusal beside the problem's members, so that whoever asks still learns it was refused and why.
 */
export function refusedNotFound(reservation: Reservation): ProblemError {
  const refusal = reservation.refusal ?? { reason: 'expired' as const };
  return new ProblemError(404, 'not-found', 'Not found', 'Nothing is reserved for this order: its reservation was refused', {
    orderId: reservation.orderId,
    reason: refusal.reason,
    refusal,
  });
}

/**
 * The answer to a read or a release of an order id with no reservation: 404 naming the order id, so the order
 * service tells "nothing is reserved for this order" (which ends a give-up or a cancel) from a 404 that is not the
 * product service's word about it (a route missing, a proxy's answer), which must end nothing. A malformed id
 * (never the order service's) is named by nothing.
 */
export function reservationNotFound(orderId: string): ProblemError {
  return new ProblemError(404, 'not-found', 'Not found', 'Reservation not found', isUuid(orderId) ? { orderId: orderId.toLowerCase() } : {});
}

export function foundReservation(rows: ReservationLineRow[]): Reservation | null {
  const found = toReservation(rows);
  return found && (found.status !== 'released' || found.items.length > 0) ? found : null;
}
