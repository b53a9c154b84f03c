/**
 * The product service's internal reservation API as the order service reads it (product: routes/schemas.ts).
 * A local stand-in until the shared `@ecommerce/contracts` package holds these; then this file goes and the
 * client imports them from there.
 */

/** POST /internal/reservations */
export interface ReserveRequest {
  orderId: string;
  items: { productId: string; quantity: number }[];
  /** RFC 3339 instant after which no new reservation may be taken for this order (replays still answer). */
  notAfter?: string;
}

/** A reserved line, priced by the product service. */
export interface ReservationItem {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}

export type ReservationStatus = 'reserved' | 'released' | 'refused';

/** The answer of POST, GET and DELETE /internal/reservations(/:orderId). */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: ReservationItem[];
}

/** GET /internal/reservations?status&after&limit */
export interface ReservationPage {
  items: { orderId: string; status: string }[];
  next: string | null;
}
