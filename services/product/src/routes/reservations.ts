import { SMALL_BODY_LIMIT, Type, type App } from '@ecommerce/kit';
import { InsufficientStock, UnknownProducts, getReservation, releaseReservation, reserveStock } from '../reservations.js';
import type { ProductDeps } from '../app.js';
import { ReservationSchema, ReserveBody } from './schemas.js';

const OrderParams = Type.Object({ orderId: Type.String() });
// Internal routes are not in the public OpenAPI document: the ingress does not route them (contract: API.md).
const internal = { hide: true, tags: ['internal'], security: [{ bearer: [] }] };

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
        if (err instanceof InsufficientStock) reservations.inc({ result: 'insufficient_stock' });
        if (err instanceof UnknownProducts) reservations.inc({ result: 'not_found' });
        throw err;
      }
    },
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
