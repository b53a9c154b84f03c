import { SMALL_BODY_LIMIT, Type, type App } from '@ecommerce/kit';
import { ReservationRefused, getReservation, listReservations, releaseReservation, reserveStock, type RefusalReason } from '../reservations.js';
import type { ProductDeps, ReservationResult } from '../app.js';
import { ReservationSchema, ReserveBody, Uuid } from './schemas.js';

const OrderParams = Type.Object({ orderId: Type.String() });
const ListQuery = Type.Object(
  {
    status: Type.Union([Type.Literal('reserved'), Type.Literal('released'), Type.Literal('refused')], { default: 'reserved' }),
    after: Type.Optional(Uuid),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
  },
  { additionalProperties: false },
);
const ListPage = Type.Object({
  items: Type.Array(Type.Object({ orderId: Type.String({ format: 'uuid' }), status: Type.String() })),
  next: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'pass as `after` for the next page; null on the last' }),
});
// Internal routes are not in the public OpenAPI document: the ingress does not route them (contract: API.md).
const internal = { hide: true, tags: ['internal'], security: [{ bearer: [] }] };

const RESULT: Record<RefusalReason, ReservationResult> = {
  'insufficient-stock': 'insufficient_stock',
  'unknown-product': 'not_found',
  'mixed-currency': 'mixed_currency',
  expired: 'expired',
};

export function reservationRoutes(app: App, deps: ProductDeps): void {
  const { db, auth, metrics } = deps;
  const { reservations } = metrics;

  app.post(
    '/internal/reservations',
    {
      onRequest: auth.service('reservations:write'),
      // At most 100 lines: a few KB; nothing larger is read.
      bodyLimit: SMALL_BODY_LIMIT,
      schema: { ...internal, body: ReserveBody, response: { 200: ReservationSchema, 201: ReservationSchema } },
    },
    async (request, reply) => {
      try {
        const outcome = await reserveStock(db, request.body);
        reservations.inc({ result: outcome.replayed ? 'replayed' : 'reserved' });
        if (outcome.stockouts) metrics.stockouts.inc(outcome.stockouts);
        return reply.code(outcome.replayed ? 200 : 201).send(outcome.reservation);
      } catch (err) {
        if (err instanceof ReservationRefused) reservations.inc({ result: err.replayed ? 'replayed' : RESULT[err.refusal.reason] });
        throw err;
      }
    },
  );

  app.get(
    '/internal/reservations',
    { onRequest: auth.service('reservations:read'), schema: { ...internal, querystring: ListQuery, response: { 200: ListPage } } },
    async (request) => listReservations(db, request.query.status, request.query.after ?? null, request.query.limit),
  );

  app.get(
    '/internal/reservations/:orderId',
    { onRequest: auth.service('reservations:read'), schema: { ...internal, params: OrderParams, response: { 200: ReservationSchema } } },
    async (request) => getReservation(db, request.params.orderId),
  );

  app.delete(
    '/internal/reservations/:orderId',
    { onRequest: auth.service('reservations:write'), schema: { ...internal, params: OrderParams, response: { 200: ReservationSchema } } },
    async (request) => {
      const outcome = await releaseReservation(db, request.params.orderId);
      if (outcome.released) reservations.inc({ result: 'released' });
      return outcome.reservation;
    },
  );
}
