import { ExpectedCurrency, ExpectedPriceCents, Uuid } from '@ecommerce/contracts';
import { DEFAULT_PAGE_LIMIT, IdempotencyKey, SMALL_BODY_LIMIT, Page, PageQuery, Type, type App } from '@ecommerce/kit';
import type { FastifyRequest } from 'fastify';
import { CANCELLATION_PENDING, PUBLIC_ORDER_STATUSES } from '../../model/order.js';
import type { RequestContext } from '../../model/request-context.js';
import { cancelOrder } from '../../use-cases/cancel-order.js';
import { findVisibleOrder, getOrder } from '../../use-cases/get-order.js';
import { listOrders } from '../../use-cases/list-orders.js';
import { placeOrder } from '../../use-cases/place-order.js';

const OrderSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    status: Type.Union(
      PUBLIC_ORDER_STATUSES.map((s) => Type.Literal(s)),
      { description: 'pending -> confirmed | rejected | failed; confirmed -> cancelled. An order whose cancel is being finished stays confirmed (its units are still held), with `cancellation: "pending"`' },
    ),
    cancellation: Type.Optional(
      Type.Literal(CANCELLATION_PENDING, {
        description:
          'present ("pending") only while a cancel the service accepted is being finished (the product service away, or the cancelling request cut off): the order still shows `status: "confirmed"` and turns `cancelled` once its stock is given back; absent otherwise',
      }),
    ),
    items: Type.Array(
      Type.Object({
        productId: Type.String({ format: 'uuid' }),
        quantity: Type.Integer(),
        unitPriceCents: Type.Union([Type.Integer(), Type.Null()], { description: 'set from the product service at reservation; null until then' }),
        name: Type.Optional(
          Type.String({ description: "the product's name as the line was reserved (the product as its unitPriceCents was charged), kept when the product is renamed or archived; absent until the order is confirmed (and on orders confirmed before this field)" }),
        ),
      }),
    ),
    totalCents: Type.Union([Type.Integer(), Type.Null()]),
    currency: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Order' },
);
/** The order number the shop shows a customer: the last 8 hex digits of the order's id. */
const OrderNumber = Type.String({
  pattern: '^[0-9a-fA-F]{8}$',
  description: 'admin only: the orders whose number (the last 8 hex digits of the id, as the shop shows it; any letter case) is this',
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const PlaceBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          productId: Uuid,
          quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
          expectedUnitPriceCents: Type.Optional(ExpectedPriceCents),
          expectedCurrency: Type.Optional(ExpectedCurrency),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 50 },
    ),
  },
  { additionalProperties: false },
);
const security = [{ bearer: [] }];

/** The request's id and trace, which is all a use case may know of it. */
function contextOf(request: FastifyRequest): RequestContext {
  return { requestId: request.id, trace: request.trace };
}

/** Orders of the signed-in user (routes/customer/index.ts has checked the token). */
export default async function orderRoutes(app: App): Promise<void> {
  app.post(
    '/order',
    {
      // An order is a few KB (at most 50 lines); nothing larger is read.
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        summary: 'Place an order (reserves stock; prices come from the product service)',
        tags: ['orders'],
        security,
        headers: Type.Object({ 'idempotency-key': IdempotencyKey() }),
        body: PlaceBody,
        response: { 200: OrderSchema, 201: OrderSchema },
      },
      // 429 order-limit when an operator sets MAX_UNITS_PER_CUSTOMER_PER_HOUR (off by default).
      config: { budgeted: true },
    },
    async (request, reply) => {
      const input = { userId: request.user!.id, key: request.headers['idempotency-key'], lines: request.body.items };
      const result = await placeOrder(app.orders, input, contextOf(request));
      // A new order's address (RFC 9110 §15.3.2), the same path through the gateway; a replay (200) names none.
      if (result.status === 201) reply.header('location', `/order/${result.order.id}`);
      return reply.code(result.status).send(result.order);
    },
  );

  app.get(
    '/order',
    {
      schema: {
        summary: 'List orders, newest first (admin: all, or ?userId=)',
        description: 'A customer: their own orders. An admin: every order, or one customer’s (`?userId=`), or those whose number, the last 8 hex digits of the id as the shop shows it, is `?number=`.',
        tags: ['orders'],
        security,
        querystring: Type.Object({ ...PageQuery, userId: Type.Optional(Uuid), number: Type.Optional(OrderNumber) }, { additionalProperties: false }),
        response: { 200: Page(OrderSchema) },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE_LIMIT, cursor, userId, number } = request.query;
      return listOrders(app.orders, request.user!, { limit, cursor, userId, number });
    },
  );

  app.get(
    '/order/:id',
    { schema: { summary: 'One order', tags: ['orders'], security, params: IdParams, response: { 200: OrderSchema } } },
    async (request) => getOrder(app.orders, request.params.id, request.user!),
  );

  app.post(
    '/order/:id/cancel',
    {
      // A precondition (If-Match: "7") is judged only on an order the caller may cancel: else its 404 (RFC 9110 13.2.1).
      config: { preconditionTarget: (request) => findVisibleOrder(app.orders, (request.params as { id: string }).id, request.user!) },
      schema: { summary: 'Cancel a confirmed order and return its stock (repeat: no-op)', tags: ['orders'], security, params: IdParams, response: { 200: OrderSchema } },
    },
    async (request) => cancelOrder(app.orders, request.params.id, request.user!, contextOf(request)),
  );
}
