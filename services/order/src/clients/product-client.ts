import type { FastifyBaseLogger } from 'fastify';
import { ClientCredentialsToken, DependencyError, PROBLEM_BASE, ServiceClient, loggedMessage, type CallContext, type Metrics, type ServiceResponse } from '@ecommerce/kit';
import type { OrderConfig } from '../config.js';
import type { RequestContext } from '../model/request-context.js';
import { REFUSAL_STATUSES_PREFERENCE, USER_TOKEN_PATH, type ReservationBody as Reservation, type ReservedLine as ReservationItem, type ReservationListPage as ReservationPage, type ReserveRequest } from '@ecommerce/contracts';

/** The product service's refusal (404, 409 or 422 with `reason`): why, and the details it gave (items, productIds...). */
export interface Refusal {
  reason: string;
  [detail: string]: unknown;
}

export type ReserveOutcome =
  | { kind: 'reserved'; items: ReservationItem[] }
  /** Final for this order id: the product service stored it, and answers every later request the same. */
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'unavailable'; reason: string }
  /**
   * The product service answered this order's request with a client error that is no refusal (400, 413, 422, a 409
   * of another kind): nothing decided, and not an outage either; it concerns this order's payload alone.
   */
  | { kind: 'unexpected'; reason: string };

/** Client errors about one request's payload; any other answer that decides nothing (401, 403, 404, 429, 5xx) is the service's state. */
const PER_REQUEST_ERRORS = new Set([400, 409, 413, 422]);

export type ReservationState =
  | { kind: 'reserved'; items: ReservationItem[] }
  | { kind: 'released' }
  | { kind: 'refused' }
  | { kind: 'absent' }
  /** No answer at all (no connection, a timeout): the product service is away. */
  | { kind: 'unavailable'; reason: string }
  /** An answer that says nothing about this reservation (a 404 that does not name it, another 4xx, a 5xx): it may concern this order alone. */
  | { kind: 'unexpected'; status: number; reason: string };

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'orderId']);

/** The product service did not answer (no connection, a timeout, an answer that is not one): an outage, not a bug. */
export class ProductUnavailableError extends Error {
  constructor(reason: string) {
    super(`product service unavailable: ${reason}`);
    this.name = 'ProductUnavailableError';
  }
}

/** The product service answered a request with an error status (4xx, 5xx) that decides nothing: it answered, so no outage as a whole. */
export class ProductAnswerError extends Error {
  constructor(
    readonly status: number,
    what: string,
  ) {
    super(`product answered ${status} to ${what}`);
    this.name = 'ProductAnswerError';
  }
}

/** The product service's internal reservation API, called with the order service's own service token. */
export class ProductClient {
  private readonly http: ServiceClient;

  constructor(config: OrderConfig, metrics: Metrics, log: Pick<FastifyBaseLogger, 'warn'>) {
    const token = new ClientCredentialsToken({
      tokenUrl: new URL(USER_TOKEN_PATH, config.USER_SERVICE_URL).toString(),
      peer: 'user',
      clientId: config.SERVICE_CLIENT_ID,
      clientSecret: config.SERVICE_CLIENT_SECRET,
      onBackgroundFailure: (err, usableForMs) =>
        log.warn({ reason: loggedMessage(err), usableForMs }, 'service token refresh failed; the token in hand is still sent, the user service asked again in 5 s'),
    });
    this.http = new ServiceClient({
      peer: 'product',
      baseUrl: config.PRODUCT_SERVICE_URL,
      metrics,
      token,
      timeoutMs: config.RESERVATION_TIMEOUT_MS,
      connections: config.PRODUCT_CONNECTIONS,
    });
  }

  /** Idempotent by orderId, so connection failures are retried (twice, with backoff). */
  async reserve(orderId: string, items: ReserveRequest['items'], notAfter: Date, context?: RequestContext): Promise<ReserveOutcome> {
    const body: ReserveRequest = { orderId, items, notAfter: notAfter.toISOString() };
    try {
      // A refusal answers a problem (404, 409 or 422 by its reason), not a Reservation.
      const res = await this.http.request<Reservation & Record<string, unknown>>({
        method: 'POST',
        path: '/internal/reservations',
        route: '/internal/reservations',
        body,
        context: forwarded(context),
        retries: 2,
        // Each refusal with its own status (404/409/422); without it a product service answers 409 reservation-refused.
        headers: { prefer: REFUSAL_STATUSES_PREFERENCE },
      });
      // The product service's reservation names its order: a 2xx that does not (a proxy's, a route's that is not it)
      // is no answer about this order, and falls through to 'unavailable' below.
      if ((res.status === 201 || res.status === 200) && namesOrder(res.body, orderId)) {
        // A reservation taken and since released (the order was cancelled) is not stock held for it.
        return res.body.status === 'reserved' ? { kind: 'reserved', items: res.body.items } : { kind: 'refused', refusal: { reason: 'released' } };
      }
      if (isRefusal(res.status, res.body, orderId)) {
        const refusal: Refusal = { reason: res.body.reason as string };
        for (const [k, v] of Object.entries(res.body)) if (!PROBLEM_MEMBERS.has(k)) refusal[k] = v;
        return { kind: 'refused', refusal };
      }
      // Anything else decides nothing: the order stays pending and is retried (a payload's error: on its own backoff).
      return { kind: PER_REQUEST_ERRORS.has(res.status) ? 'unexpected' : 'unavailable', reason: `product answered ${res.status}` };
    } catch (err) {
      return { kind: 'unavailable', reason: describe(err) };
    }
  }

  /**
   * One page of the order ids holding stock (status reserved), ascending; throws ProductUnavailableError when the
   * product service does not answer, ProductAnswerError when it answers with an error status.
   */
  async listHeld(after: string | null, limit: number): Promise<{ orderIds: string[]; next: string | null }> {
    const query = new URLSearchParams({ status: 'reserved', limit: String(limit), ...(after ? { after } : {}) });
    let res: ServiceResponse<ReservationPage>;
    try {
      res = await this.http.request<ReservationPage>({
        method: 'GET',
        path: `/internal/reservations?${query}`,
        route: '/internal/reservations',
        retries: 2,
      });
    } catch (err) {
      throw new ProductUnavailableError(describe(err));
    }
    if (res.status !== 200) throw new ProductAnswerError(res.status, 'the reservation list');
    return { orderIds: res.body.items.map((i) => i.orderId.toLowerCase()), next: res.body.next };
  }

  async get(orderId: string, context?: RequestContext): Promise<ReservationState> {
    try {
      const res = await this.http.request<Reservation>({
        method: 'GET',
        path: `/internal/reservations/${encodeURIComponent(orderId)}`,
        route: '/internal/reservations/:orderId',
        context: forwarded(context),
        retries: 2,
      });
      // A 200 that does not name this order is not its reservation: 'unexpected' below, never read as released.
      if (res.status === 200 && namesOrder(res.body, orderId)) {
        if (res.body.status === 'reserved') return { kind: 'reserved', items: res.body.items };
        // 'refused' with 200: the product service of the previous release.
        return res.body.status === 'refused' ? { kind: 'refused' } : { kind: 'released' };
      }
      // A refused order id is a 404 naming its refusal; one naming the order alone, nothing reserved. A 404 that does not
      // name it (a route missing, a proxy's answer) says nothing about this reservation: the audit must not take a held
      // reservation for a lost one and cancel a confirmed order on it.
      if (res.status === 404 && nothingReserved(res.body, orderId)) return isRefusal(res.status, res.body, orderId) ? { kind: 'refused' } : { kind: 'absent' };
      return { kind: 'unexpected', status: res.status, reason: `product answered ${res.status}` };
    } catch (err) {
      return { kind: 'unavailable', reason: describe(err) };
    }
  }

  /**
   * Returns the stock of a reservation; idempotent on the product side: 'released' when this call gave stock
   * back, 'not-held' when there was nothing to give (already released); 'absent' when the product service's 404
   * names this order (nothing reserved under it, or refused; or is its previous release's, nothingReserved); 'unexpected' for a client error about this order's
   * request (nothing decided, no outage); 'unavailable' for no answer or one about the service's state (a 404
   * that does not name the order among them).
   */
  async release(orderId: string, context?: RequestContext): Promise<'released' | 'not-held' | 'absent' | 'unavailable' | 'unexpected'> {
    try {
      const res = await this.http.request({
        method: 'DELETE',
        path: `/internal/reservations/${encodeURIComponent(orderId)}`,
        route: '/internal/reservations/:orderId',
        context: forwarded(context),
        retries: 2,
      });
      // A product service older than the `released` flag answered the reservation alone: taken as released. Its answer
      // names the order; a 200 that does not (a proxy's, a route that is not this one) ended a cancel with the stock held.
      if (res.status === 200 && namesOrder(res.body, orderId)) return (res.body as { released?: unknown } | undefined)?.released === false ? 'not-held' : 'released';
      // Nothing to give back only when the product service says so of this order (its 404 names it, refused or not):
      // any 404 ended a cancel before, so a route missing or a proxy's 404 recorded it cancelled with the stock still
      // held. Any other 404 is the service's state (as for a reservation), tried again: the order stays cancelling.
      if (res.status === 404 && nothingReserved(res.body, orderId)) return 'absent';
      // Any other answer, a 200 that does not name the order among them, decides nothing.
      return PER_REQUEST_ERRORS.has(res.status) ? 'unexpected' : 'unavailable';
    } catch {
      return 'unavailable';
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** What a call forwards from the request that caused it (none for the reconciler's own work). */
/**
 * Whether an answer to a reservation is the product service's refusal of this order id: 404 (unknown product), 409
 * (short stock, a price changed, the window closed) or 422 (mixed currencies), each naming the order and a `reason`.
 * A 404 or 409 without them (a route that is not there, a proxy's answer) decides nothing. The product service
 * before this release answered every refusal 409 `reservation-refused` with the same members: read alike.
 */
function isRefusal(status: number, body: unknown, orderId: string): body is Record<string, unknown> & { reason: string } {
  if (status !== 404 && status !== 409 && status !== 422) return false;
  if (!body || typeof body !== 'object') return false;
  const { reason } = body as Record<string, unknown>;
  return typeof reason === 'string' && reason.length > 0 && namesOrder(body, orderId);
}

/** Whether an answer's body is the product service's word about this order id: a reservation or a problem whose `orderId` is it. */
function namesOrder(body: unknown, orderId: string): boolean {
  const named = body && typeof body === 'object' ? (body as Record<string, unknown>).orderId : undefined;
  return typeof named === 'string' && named.toLowerCase() === orderId.toLowerCase();
}

/**
 * Whether a 404 is the product service's word that nothing is reserved for this order id: it names the order; or, from
 * a product service before it named it, it is that service's exact problem for this reservation's path (type
 * not-found, detail 'Reservation not found', instance the path asked), which no missing route (the kit answers 'No
 * route for ...') or proxy gives. Read alike during a rolling deploy, so a give-up need not wait for the product side.
 */
function nothingReserved(body: unknown, orderId: string): boolean {
  if (namesOrder(body, orderId)) return true;
  if (!body || typeof body !== 'object') return false;
  const { type, detail, instance, orderId: named } = body as Record<string, unknown>;
  return (
    named === undefined &&
    type === `${PROBLEM_BASE}not-found` &&
    detail === 'Reservation not found' &&
    instance === `/internal/reservations/${encodeURIComponent(orderId)}`
  );
}

function forwarded(context: RequestContext | undefined): CallContext | undefined {
  return context && { id: context.requestId, trace: context.trace };
}

function describe(err: unknown): string {
  if (err instanceof DependencyError) return err.kind;
  return (err as Error)?.message ?? 'error';
}
