import { Conflict, ProblemError } from '@ecommerce/kit';

export type OrderStatus = 'pending' | 'confirmed' | 'rejected' | 'failed' | 'cancelling' | 'cancelled';
export const ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'confirmed', 'rejected', 'failed', 'cancelling', 'cancelled'];

/**
 * The statuses an order shows in the API: the five of the public contract (docs/api.md, "Order states"). The
 * internal `cancelling` is shown as `confirmed` (its units are still held) with `cancellation: "pending"`.
 */
export type PublicOrderStatus = Exclude<OrderStatus, 'cancelling'>;
export const PUBLIC_ORDER_STATUSES: readonly PublicOrderStatus[] = ['pending', 'confirmed', 'rejected', 'failed', 'cancelled'];

/** An order's cancel was accepted and is being finished (its stock not yet given back): the only value of `Order.cancellation`. */
export const CANCELLATION_PENDING = 'pending';

/** How an order in `status` shows in the API: its public status, and `cancellation` when a cancel is being finished. */
export function publicStatus(status: OrderStatus): { status: PublicOrderStatus; cancellation?: typeof CANCELLATION_PENDING } {
  return status === 'cancelling' ? { status: 'confirmed', cancellation: CANCELLATION_PENDING } : { status };
}

/** The order state machine. Anything not listed is illegal and answered 409, never overwritten. */
const TRANSITIONS = {
  pending: ['confirmed', 'rejected', 'failed'],
  // confirmed -> cancelled directly only as the audit's repair of a confirmed order that holds no stock.
  confirmed: ['cancelling', 'cancelled'],
  rejected: [],
  failed: [],
  cancelling: ['cancelled'],
  cancelled: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** The states an order in `from` may move to. */
export type NextStatus<From extends OrderStatus> = (typeof TRANSITIONS)[From][number];

/** Refuses a move the state machine does not allow (409 illegal-transition). */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!(TRANSITIONS[from] as readonly OrderStatus[]).includes(to)) throw new Conflict('illegal-transition', `An order cannot go from ${from} to ${to}`);
}

/** Still moving: one driver at a time reserves (pending) or releases (cancelling) for it. */
export function inFlight(status: OrderStatus): status is 'pending' | 'cancelling' {
  return status === 'pending' || status === 'cancelling';
}

export interface OrderLine extends PriceExpectation {
  productId: string;
  quantity: number;
  unitPriceCents: number | null;
  /** The product's name as the line was reserved, with its price (what was bought, whatever the product is called later). */
  name?: string;
}

/**
 * The price a customer was shown for a line, when the client sends it: a guard, never the price. Kept on a
 * pending order's lines so a later reservation (a replay, the reconciler) checks the same; a confirmed order's
 * lines carry the reserved price instead.
 */
export interface PriceExpectation {
  expectedUnitPriceCents?: number;
  expectedCurrency?: string;
}

/** A line as the client asks for it (prices never come from the client). */
export interface RequestedLine extends PriceExpectation {
  productId: string;
  quantity: number;
}

/** The order as the API answers it. */
export interface Order {
  id: string;
  userId: string;
  status: PublicOrderStatus;
  /** Set ("pending") only while an accepted cancel is being finished (internally `cancelling`); absent otherwise. */
  cancellation?: typeof CANCELLATION_PENDING;
  items: OrderLine[];
  totalCents: number | null;
  currency: string;
  createdAt: string;
  updatedAt: string;
}

/** The order as stored (the repository's rows, column names as in the database). */
export interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: OrderLine[];
  total_cents: number | null;
  currency: string;
  request_hash: string;
  rejection: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  /** When a driver gave the pending order up (to be failed, its stock released; see OrderRepository.giveUp); null: not given up. */
  given_up_at?: Date | null;
  /** The drive lease the row was read with, in microseconds since the epoch (as text); null: none held. */
  lease?: string | null;
  /** The placing request's W3C traceparent; read only by the reconciler's claim (null: placed before it was stored). */
  traceparent?: string | null;
  [k: string]: unknown;
}

export function toOrder(r: OrderRow): Order {
  return {
    id: r.id,
    userId: r.user_id,
    ...publicStatus(r.status),
    items: r.items,
    totalCents: r.total_cents,
    currency: r.currency,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

/** Who is asking: users see their own orders only, admins every order. */
export interface Viewer {
  id: string;
  role: string;
}

/** The problem a rejected or failed order answers, stored with it (orders.rejection) so a replay answers the same. */
export interface StoredProblem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  [extension: string]: unknown;
}

export function storedProblem(err: ProblemError): StoredProblem {
  return { ...err.extensions, status: err.status, slug: err.slug, title: err.title, detail: err.message };
}

/**
 * The order would take its customer over MAX_UNITS_PER_CUSTOMER_PER_HOUR: 429, nothing written. Retry-After is the
 * seconds until the counted hour ends, as the database said (its clock, its hours); the next UTC hour by this
 * process's clock only when it did not say.
 */
export class HourlyLimitReached extends ProblemError {
  constructor(limit: number, secondsLeft?: number) {
    const retryAfter = secondsLeft !== undefined && Number.isFinite(secondsLeft) ? Math.min(3600, Math.max(1, Math.ceil(secondsLeft))) : 3600 - (Math.floor(Date.now() / 1000) % 3600);
    super(429, 'order-limit', 'Too many requests', `At most ${limit} units per customer per hour can be ordered; try again later`, { limit }, { 'retry-after': String(retryAfter) });
  }
}

/** The line's price expectation alone (no undefined members: it is stored as JSON and sent as is). */
export function expectationOf(line: PriceExpectation): PriceExpectation {
  return {
    ...(line.expectedUnitPriceCents !== undefined ? { expectedUnitPriceCents: line.expectedUnitPriceCents } : {}),
    ...(line.expectedCurrency !== undefined ? { expectedCurrency: line.expectedCurrency } : {}),
  };
}
