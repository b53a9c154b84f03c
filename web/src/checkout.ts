// Placing an order from the browser: one Idempotency-Key per checkout attempt, retried with the same key on
// network errors and 503, so a double click or a flaky network never makes two orders (docs/web.md).

import { isTimeout, notNow, problemText } from './api/client.js';
import { sendKeyed } from './api/keyed.js';
import { answeredWithError, asSentence, problemRef } from './failure.js';

interface OrderLike {
  id: string;
  status: string;
}

export interface ShortItem {
  productId: string;
  requested: number;
  available: number;
}

/** A line whose price moved after the shopper's last look: what the cart showed and the price now. */
interface PriceChange {
  productId: string;
  expectedUnitPriceCents?: number;
  expectedCurrency?: string;
  unitPriceCents: number;
  currency: string;
}

/** A product asked in more units than one order takes (the order service's MAX_QUANTITY_PER_LINE): `max` is that bound. */
interface OverLimit {
  productId: string;
  requested: number;
  max: number;
}

export type PlaceOutcome =
  | { kind: 'placed'; order: OrderLike }
  | { kind: 'short'; orderId: string | null; items: ShortItem[]; detail: string }
  | { kind: 'price-changed'; items: PriceChange[]; detail: string }
  | { kind: 'over-limit'; items: OverLimit[]; detail: string }
  | { kind: 'gone'; productIds: string[]; detail: string }
  | { kind: 'pending'; orderId: string }
  | { kind: 'failed'; orderId: string; detail: string }
  /** `answered`: the last try got an answer, a 5xx (and the id its problem gives to quote): not that none came. */
  | { kind: 'unreachable'; detail: string; answered?: InFlightAnswer }
  | { kind: 'refused'; status: number; detail: string };

/** The 5xx status an order request was answered with, and the id its problem gives to quote (failure.ts). */
export interface InFlightAnswer {
  status: number;
  ref?: string;
}

/** One POST /order with the given key, and the answer's X-Request-Id; throws on a network error (fetch's TypeError). */
export type SendOrder = (idempotencyKey: string) => Promise<{ status: number; body: unknown; requestId?: string | null }>;

export interface RetryPolicy {
  /** Waits before the 2nd, 3rd, ... try. */
  delaysMs: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = { delaysMs: [300, 800, 1500, 3000] };

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** Sends the order, retrying with the same key while the answer is a network error, 502, 503 or 504 (sendKeyed). */
export async function placeOrder(send: SendOrder, idempotencyKey: string, policy: RetryPolicy = DEFAULT_RETRY): Promise<PlaceOutcome> {
  let last: Awaited<ReturnType<SendOrder>>;
  try {
    // 503, and a proxy's 502/504 (the request may have arrived): the same key again is safe, it finds the order.
    // Not a 503 that names the order: it is recorded and in flight (the product service away, or an earlier try's
    // process gone), the order service settles it, and each retry would wait up to a reservation deadline for the
    // same answer (docs/api.md): the order's page polls it instead.
    last = await sendKeyed(() => send(idempotencyKey), (answer) => notNow(answer.status) && !(answer.status === 503 && typeof field(answer.body, 'orderId') === 'string'), policy.delaysMs, policy.sleep);
  } catch (err) {
    // No answer in WRITE_TIMEOUT_MS (api/client.ts): the shop is stuck, not flaky; said at once, not after four more waits.
    if (isTimeout(err)) {
      return { kind: 'unreachable', detail: 'The shop did not answer in time. The order may have gone through: press Place order again to find out (it is never placed twice).' };
    }
    // A connection dropped after the request went out looks the same as one that never left: the shop may have
    // placed the order (it had, and the page said only "try again": a shopper who left then had an order unawares).
    return { kind: 'unreachable', detail: 'The shop could not be reached. The order may have gone through: press Place order again to find out (it is never placed twice).' };
  }
  // The problem's detail and, for a 400, which field and why (not just "1 field(s) failed validation"). An answer
  // that is not a problem (a proxy's HTML page) is said in words, never as a bare "HTTP 403".
  const detail = problemText(last.body, `The shop could not take the order just now (error ${last.status}). Your cart is kept; please try again in a moment.`);
  if (last.status === 200 || last.status === 201) return { kind: 'placed', order: last.body as OrderLike };
  // A rate limit on the way (mostly a proxy's, whose page is no problem+json) refused the request before it was
  // handled: nothing was ordered. The services' own "Too many attempts" says neither that nor that the cart stays.
  if (last.status === 429) {
    return { kind: 'refused', status: 429, detail: 'The shop is getting too many requests just now, so the order was not placed. Your cart is kept; please try again in a minute.' };
  }
  if (last.status === 409 && field(last.body, 'type') === 'https://ecommerce.local/problems/insufficient-stock') {
    const items = field(last.body, 'items');
    return { kind: 'short', orderId: (field(last.body, 'orderId') as string | undefined) ?? null, items: Array.isArray(items) ? (items as ShortItem[]) : [], detail };
  }
  // A price moved between the last look and the order: nothing was charged or reserved.
  if (last.status === 409 && field(last.body, 'type') === 'https://ecommerce.local/problems/price-changed') {
    const items = field(last.body, 'items');
    return { kind: 'price-changed', items: Array.isArray(items) ? (items as PriceChange[]) : [], detail };
  }
  // More units of a product than one order takes (nothing recorded): which products and the bound, for the cart.
  if (last.status === 422 && field(last.body, 'type') === 'https://ecommerce.local/problems/quantity-limit') {
    const items = field(last.body, 'items');
    return { kind: 'over-limit', items: Array.isArray(items) ? (items as OverLimit[]) : [], detail };
  }
  // A product archived (or never sold) since the last look: refused, nothing reserved; which ones, for the cart.
  if (last.status === 404 && Array.isArray(field(last.body, 'productIds'))) {
    return { kind: 'gone', productIds: (field(last.body, 'productIds') as unknown[]).filter((id): id is string => typeof id === 'string'), detail };
  }
  // Recorded as failed (the product service stayed away past the order's deadline): show that order.
  if (last.status === 409 && field(last.body, 'type') === 'https://ecommerce.local/problems/order-failed' && typeof field(last.body, 'orderId') === 'string') {
    return { kind: 'failed', orderId: field(last.body, 'orderId') as string, detail };
  }
  const answered: InFlightAnswer = { status: last.status, ref: problemRef(last.body, last.requestId) };
  // In the words a reload says it (answeredWithError): a 504 did not answer in time, a 502 or 503 had a problem.
  const said = asSentence(answeredWithError(last.status, answered.ref));
  if (last.status === 503) {
    const orderId = field(last.body, 'orderId');
    // The order service recorded the order as pending: it settles it; we poll. Without an id nothing was recorded.
    return typeof orderId === 'string' ? { kind: 'pending', orderId } : { kind: 'unreachable', detail: `${said}: it is busy or down for a moment. Your cart is kept; try again.`, answered };
  }
  // A proxy's 502/504: the request may have reached the order service and placed the order, so this is an
  // attempt without an answer, like a dropped connection: the same key must be used again (never a new one).
  if (last.status === 502 || last.status === 504) {
    return { kind: 'unreachable', detail: `${said}. The order may have gone through: press Place order again to find out (it is never placed twice).`, answered };
  }
  // Any other 5xx (the service's 500 for an unexpected error) says nothing of whether the order was written: the order
  // service records it before reserving, and one failing after that is settled without the shopper. Refused, it started
  // a new attempt, and the next press, under a new key, was a second order. Kept as an attempt without an answer: the
  // same key again finds that order, or places it once. Said as a reload says it: the shop had a problem, its id to quote
  // (it said "The shop ran into an error (<the service's detail>)" here and "had a problem" after a reload).
  if (last.status >= 500) {
    return { kind: 'unreachable', detail: `${said}. The order may have gone through: press Place order again to find out (it is never placed twice).`, answered };
  }
  return { kind: 'refused', status: last.status, detail };
}

/** A fresh key for a new checkout attempt. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** A short stable digest of a text (FNV-1a, 2 x 32 bits, hex): an idempotency key names a cart's content in 17 characters. */
export function contentHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 7), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

const IN_FLIGHT_KEY = 'ecommerce.checkout-in-flight.v1';
/** How long a checkout left mid-request is worth a word: a retry with its key finds the order for longer. */
const IN_FLIGHT_NOTICE_MS = 30 * 60_000;

/**
 * The key of an order request on its way, kept until its answer arrives: a page reloaded or closed meanwhile
 * cannot tell whether the order went through. Checkout then says so (pressing again with the same key is safe).
 */
export const checkoutInFlight = {
  mark(key: string): void {
    localStorage.setItem(IN_FLIGHT_KEY, JSON.stringify({ key, at: Date.now() }));
  },
  clear(): void {
    localStorage.removeItem(IN_FLIGHT_KEY);
  },
  /**
   * The request under `key` was answered, with a 5xx that leaves the order unknown: kept (the same key again finds it),
   * with that answer, so a reload says the shop had a problem, not that no answer came.
   */
  answered(key: string, answer: InFlightAnswer): void {
    const sent = checkoutInFlight.latest();
    if (sent?.key === key) localStorage.setItem(IN_FLIGHT_KEY, JSON.stringify({ ...sent, answer }));
  },
  /**
   * The request sent lately and never answered here, whatever cart it was for: a cart changed since (a quantity, a
   * line) is another attempt, whose Place order would be a second order if that one went through.
   */
  latest(): { key: string; at: number; answer?: InFlightAnswer } | null {
    try {
      const v = JSON.parse(localStorage.getItem(IN_FLIGHT_KEY) ?? 'null') as { key?: unknown; at?: unknown; answer?: Partial<InFlightAnswer> } | null;
      const answer = typeof v?.answer?.status === 'number' ? { status: v.answer.status, ref: typeof v.answer.ref === 'string' ? v.answer.ref : undefined } : undefined;
      return typeof v?.key === 'string' && typeof v.at === 'number' && Date.now() - v.at < IN_FLIGHT_NOTICE_MS ? { key: v.key, at: v.at, answer } : null;
    } catch {
      return null;
    }
  },
  /** True when a request under this key was sent lately and never answered here. */
  pending(key: string): boolean {
    return checkoutInFlight.latest()?.key === key;
  },
};
