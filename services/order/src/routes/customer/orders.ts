import { DEFAULT_PAGE_LIMIT, SMALL_BODY_LIMIT, Forbidden, NotFound, Page, PageQuery, Type, UUID_PATTERN, decodeCursor, pageOf, type App, type Authenticator } from '@ecommerce/kit';
import { ORDER_STATUSES, getOrderRow, listOrders, toOrder } from '../../data/order-repository.js';
import { cancelOrder, placeOrder, type OrderDeps } from '../../use-cases/place-order.js';

const Uuid = Type.String({ pattern: UUID_PATTERN });
const OrderSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)), { description: 'pending -> confirmed | rejected | failed; confirmed -> cancelling -> cancelled' }),
    items: Type.Array(
      Type.Object({
        productId: Type.String({ format: 'uuid' }),
        quantity: Type.Integer(),
        unitPriceCents: Type.Union([Type.Integer(), Type.Null()], { description: 'set from the product service at reservation; null until then' }),
      }),
    ),
    totalCents: Type.Union([Type.Integer(), Type.Null()]),
    currency: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Order' },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export function orderRoutes(app: App, deps: OrderDeps, auth: Authenticator): void {
  const security = [{ bearer: [] }];
  // Auth runs onRequest, before the body is parsed and validated: an anonymous caller learns 401, not the schema.

  /** Users see their own orders only; another user's order is a 404, so existence does not leak. */
  async function visibleOrder(id: string, user: { id: string; role: string }) {
    if (!new RegExp(UUID_PATTERN).test(id)) throw new NotFound('Order not found');
    const row = await getOrderRow(deps.db, id);
    if (user.role !== 'admin' && row.user_id !== user.id) throw new NotFound('Order not found');
    return row;
  }

  app.post(
    '/order',
    {
      onRequest: auth.user(),
      // An order is a few KB (at most 50 lines); nothing larger is read.
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        summary: 'Place an order (reserves stock; prices come from the product service)',
        tags: ['orders'],
        security,
        headers: Type.Object({ 'idempotency-key': Type.String({ minLength: 1, maxLength: 255 }) }),
        body: Type.Object(
          {
            items: Type.Array(
              Type.Object({ productId: Uuid, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
              { minItems: 1, maxItems: 50 },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: OrderSchema, 201: OrderSchema },
      },
    },
    async (request, reply) => {
      const result = await placeOrder(deps, request.user!.id, request.headers['idempotency-key'], request.body.items, request);
      return reply.code(result.status).send(result.order);
    },
  );

  app.get(
    '/order',
    {
      onRequest: auth.user(),
      schema: {
        summary: 'List orders, newest first (admin: all, or ?userId=)',
        tags: ['orders'],
        security,
        querystring: Type.Object({ ...PageQuery, userId: Type.Optional(Uuid) }, { additionalProperties: false }),
        response: { 200: Page(OrderSchema) },
      },
    },
    async (request) => {
      const user = request.user!;
      const { limit = DEFAULT_PAGE_LIMIT, cursor, userId } = request.query;
      if (user.role !== 'admin' && userId !== undefined && userId !== user.id) throw new Forbidden('Only admins can list other users’ orders');
      const filter = user.role === 'admin' ? (userId ?? null) : user.id;
      const before = decodeCursor(cursor, 1);
      if (before && !new RegExp(UUID_PATTERN).test(String(before[0]))) decodeCursor('!', 1);
      const rows = await listOrders(deps.db, filter, limit, before ? String(before[0]) : null);
      return pageOf(rows, limit, (r) => [r.id], toOrder);
    },
  );

  app.get(
    '/order/:id',
    {
      onRequest: auth.user(),
      schema: { summary: 'One order', tags: ['orders'], security, params: IdParams, response: { 200: OrderSchema } },
    },
    async (request) => toOrder(await visibleOrder(request.params.id, request.user!)),
  );

  app.post(
    '/order/:id/cancel',
    {
      onRequest: auth.user(),
      schema: { summary: 'Cancel a confirmed order and return its stock (repeat: no-op)', tags: ['orders'], security, params: IdParams, response: { 200: OrderSchema } },
    },
    async (request) => cancelOrder(deps, await visibleOrder(request.params.id, request.user!), request),
  );
}
