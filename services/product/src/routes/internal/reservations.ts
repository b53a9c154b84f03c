import { SMALL_BODY_LIMIT, Type, type App } from '@ecommerce/kit';
import { REFUSAL_STATUSES_PREFERENCE, ReleasedReservationSchema, ReservationListPage, ReservationListQuery, ReservationSchema, ReserveBody } from '@ecommerce/contracts';
import { ReservationRefused } from '../../model/reservation.js';
import { getReservation } from '../../use-cases/get-reservation.js';
import { listReservations } from '../../use-cases/list-reservations.js';
import { releaseReservation } from '../../use-cases/release-reservation.js';
import { reserveStock } from '../../use-cases/reserve-stock.js';

const OrderParams = Type.Object({ orderId: Type.String() });
// Internal routes are not in the public OpenAPI document: the ingress does not route them (contract: docs/api.md).
const internal = { hide: true, tags: ['internal'], security: [{ bearer: [] }] };
const write = { scope: 'reservations:write' };
const read = { scope: 'reservations:read' };

export default async function reservationRoutes(app: App): Promise<void> {
  app.post(
    '/internal/reservations',
    {
      config: write,
      // At most 100 lines: a few KB; nothing larger is read.
      bodyLimit: SMALL_BODY_LIMIT,
      schema: { ...internal, body: ReserveBody, response: { 200: ReservationSchema, 201: ReservationSchema } },
    },
    async (request, reply) => {
      let outcome;
      try {
        outcome = await reserveStock(app, request.body);
      } catch (err) {
        // An order service of the previous release (a rolling update) sends no preference and reads only 409
        // reservation-refused: any other status left its order pending, the shopper answered 503. It is told apart by
        // its request, which always holds notAfter (an addition the shared contract's request does not name): a caller
        // that sends the contract's request, { orderId, items }, gets the contract's statuses (API.md: 409
        // insufficient-stock, 404 unknown product) with or without the preference.
        if (err instanceof ReservationRefused && isPreviousOrderService(request.headers.prefer, request.body)) throw err.asPreviousRelease();
        throw err;
      }
      if (!outcome.replayed) reply.header('location', `/internal/reservations/${outcome.reservation.orderId}`);
      return reply.code(outcome.replayed ? 200 : 201).send(outcome.reservation);
    },
  );

  app.get(
    '/internal/reservations',
    { config: read, schema: { ...internal, querystring: ReservationListQuery, response: { 200: ReservationListPage } } },
    async (request) => listReservations(app, request.query.status, request.query.after ?? null, request.query.limit),
  );

  app.get(
    '/internal/reservations/:orderId',
    { config: read, schema: { ...internal, params: OrderParams, response: { 200: ReservationSchema } } },
    async (request) => getReservation(app, request.params.orderId),
  );

  app.delete(
    '/internal/reservations/:orderId',
    {
      // If-Match: "1" on an unknown order id is its 404, not a 412 (RFC 9110 13.2.1).
      config: { ...write, preconditionTarget: (request) => getReservation(app, (request.params as { orderId: string }).orderId) },
      schema: { ...internal, params: OrderParams, response: { 200: ReleasedReservationSchema } },
    },
    async (request) => {
      const { reservation, released } = await releaseReservation(app, request.params.orderId);
      return { ...reservation, released };
    },
  );
}

/** The previous release's order service: notAfter in the body (it sends it on every reservation) and no preference. */
function isPreviousOrderService(prefer: string | string[] | undefined, body: { notAfter?: string }): boolean {
  return body.notAfter !== undefined && !prefersContractStatuses(prefer);
}

/**
 * Whether a Prefer header (RFC 7240: comma-separated preferences, each `token[=value]` with optional parameters, the
 * value a token or a quoted-string) holds REFUSAL_STATUSES_PREFERENCE.
 */
function prefersContractStatuses(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  const unquoted = (preference: string) => preference.replace(/\s*=\s*/, '=').replace(/="(.*)"$/, '=$1');
  return values.some((v) => v.split(',').some((p) => unquoted(p.split(';')[0]!.trim().toLowerCase()) === REFUSAL_STATUSES_PREFERENCE));
}
