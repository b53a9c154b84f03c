// The order statuses the API shows are the five of the public contract (docs/api.md, "Order states"): a cancel
// being finished (internally `cancelling`) shows as `confirmed` with `cancellation: "pending"` in every answer
// that carries the order (GET /order/:id, GET /order, a POST /order replay, the cancel's 503 problem), and as
// `cancelled` without the field once its stock is back (by a repeated cancel, or by the reconciler).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createCustomer, createProduct, freePort, http, sql, stockOf, stopAll, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { ORDER_STATUSES, toOrder, type OrderLine, type OrderRow } from '../src/model/order.js';
import { startOrderService } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

/** The order states clients are written against (the public contract): written out here, not read from the code. */
const CONTRACT_STATUSES = ['pending', 'confirmed', 'rejected', 'failed', 'cancelled'];

interface PublicOrder {
  id: string;
  status: string;
  cancellation?: unknown;
}

startUserSideForFile();

describe('public order status (contract)', () => {
  it('whatever an order is internally, toOrder shows one of the five contract statuses, `cancellation` set exactly for a cancel being finished', () => {
    const line = fc.record({ productId: fc.uuid(), quantity: fc.integer({ min: 1, max: 1000 }), unitPriceCents: fc.option(fc.integer({ min: 0, max: 1e9 })) });
    fc.assert(
      fc.property(fc.constantFrom(...ORDER_STATUSES), fc.array(line, { minLength: 1, maxLength: 5 }), fc.date({ noInvalidDate: true }), (status, items: OrderLine[], at) => {
        const row: OrderRow = { id: randomUUID(), user_id: randomUUID(), status, items, total_cents: null, currency: 'EUR', request_hash: 'h', rejection: null, created_at: at, updated_at: at };
        const shown = toOrder(row);
        assert.ok(CONTRACT_STATUSES.includes(shown.status), `${status} shows as ${shown.status}`);
        if (status === 'cancelling') assert.deepEqual([shown.status, shown.cancellation], ['confirmed', 'pending']);
        else assert.deepEqual([shown.status, 'cancellation' in shown], [status, false]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a cancel cut short by the product service being away', () => {
  let product: Running;
  let order: Running;
  let productPort: number;
  before(async () => {
    productPort = await freePort();
    product = await startProductService(db.urls.product, user.base, {}, productPort);
    order = await startOrderService(db.urls.order, user.base, product.base, { RECONCILER_ENABLED: 'false', RESERVATION_TIMEOUT_MS: '500' });
  });
  after(() => stopAll(order, product));

  it('shows confirmed + cancellation "pending" in every public answer, then cancelled without the field once a repeat or the reconciler finishes it', async () => {
    const p = await createProduct(product.base, admin, { stock: 10 });
    const buyer = await createCustomer(user.base);
    const keys = [randomUUID(), randomUUID()];
    const body = { items: [{ productId: p.id, quantity: 2 }] };
    const place = (key: string) => http<PublicOrder>(order.base, 'POST', '/order', { token: buyer.token, body, headers: { 'idempotency-key': key } });
    const placed = await Promise.all(keys.map(place));
    assert.deepEqual(placed.map((r) => [r.status, r.body.status, 'cancellation' in r.body]), [[201, 'confirmed', false], [201, 'confirmed', false]]);
    const [a, b] = placed.map((r) => r.body.id);

    await product.close();
    for (const id of [a!, b!]) {
      const cancel = await http<{ status: unknown; orderId?: string; orderStatus?: string; cancellation?: string }>(order.base, 'POST', `/order/${id}/cancel`, { token: buyer.token });
      assert.deepEqual([cancel.status, cancel.body.orderId, cancel.body.orderStatus, cancel.body.cancellation], [503, id, 'confirmed', 'pending'], JSON.stringify(cancel.body));
    }
    const stored = await sql<{ status: string }>(db.urls.order, 'SELECT status FROM orders.orders WHERE id = ANY($1::uuid[])', [[a, b]]);
    assert.deepEqual(stored.map((r) => r.status), ['cancelling', 'cancelling'], 'the intent is stored as it always was');

    // Every answer carrying the order: one of the five, the cancel shown as pending.
    const shown: [string, PublicOrder][] = [];
    for (const [i, id] of [a!, b!].entries()) {
      shown.push([`GET /order/${id}`, (await http<PublicOrder>(order.base, 'GET', `/order/${id}`, { token: buyer.token })).body]);
      shown.push([`GET /order/${id} (admin)`, (await http<PublicOrder>(order.base, 'GET', `/order/${id}`, { token: admin })).body]);
      const replay = await place(keys[i]!);
      assert.equal(replay.status, 200);
      shown.push([`POST /order replay of ${id}`, replay.body]);
    }
    const mine = await http<{ items: PublicOrder[] }>(order.base, 'GET', '/order', { token: buyer.token });
    for (const o of mine.body.items) shown.push([`GET /order item ${o.id}`, o]);
    const all = await http<{ items: PublicOrder[] }>(order.base, 'GET', `/order?userId=${buyer.id}`, { token: admin });
    for (const o of all.body.items) shown.push([`GET /order?userId (admin) item ${o.id}`, o]);
    assert.equal(shown.length, 10);
    // No ?status= filter to map `cancelling` onto: the list takes none (docs/api.md, GET /order).
    const filtered = await http<{ type?: string }>(order.base, 'GET', '/order?status=cancelling', { token: buyer.token });
    assert.equal(filtered.status, 400, filtered.text);
    for (const [where, o] of shown) assert.deepEqual([o.status, o.cancellation], ['confirmed', 'pending'], where);

    // The product service back: a repeated cancel finishes a; the reconciler (another replica) finishes b.
    product = await startProductService(db.urls.product, user.base, {}, productPort);
    const repeat = await http<PublicOrder>(order.base, 'POST', `/order/${a}/cancel`, { token: buyer.token });
    assert.deepEqual([repeat.status, repeat.body.status, 'cancellation' in repeat.body], [200, 'cancelled', false]);
    const reconciling = await startOrderService(db.urls.order, user.base, product.base, { RECONCILER_INTERVAL_MS: '100' });
    try {
      await waitFor('the reconciler to finish the cancel', async () => (await http<PublicOrder>(order.base, 'GET', `/order/${b}`, { token: buyer.token })).body.status === 'cancelled');
    } finally {
      await reconciling.close();
    }
    const after: [string, PublicOrder][] = [];
    for (const [i, id] of [a!, b!].entries()) {
      after.push([`GET /order/${id}`, (await http<PublicOrder>(order.base, 'GET', `/order/${id}`, { token: buyer.token })).body]);
      after.push([`POST /order replay of ${id}`, (await place(keys[i]!)).body]);
      after.push([`POST /order/${id}/cancel repeat`, (await http<PublicOrder>(order.base, 'POST', `/order/${id}/cancel`, { token: buyer.token })).body]);
    }
    for (const o of (await http<{ items: PublicOrder[] }>(order.base, 'GET', '/order', { token: buyer.token })).body.items) after.push([`GET /order item ${o.id}`, o]);
    assert.equal(after.length, 8);
    for (const [where, o] of after) assert.deepEqual([o.status, 'cancellation' in o], ['cancelled', false], where);
    assert.equal(await stockOf(product.base, p.id), 10, 'both orders gave their units back');
  });

  it('documents the five statuses and the cancellation field in the OpenAPI document, for every route answering an Order', async () => {
    /** A literal is `{ const }` or `{ enum: [one] }`; a union of them `anyOf`. */
    type Property = { anyOf?: Property[]; const?: string; enum?: string[] };
    const literals = (p: Property | undefined): unknown[] => (p?.anyOf ? p.anyOf.flatMap(literals) : p?.const !== undefined ? [p.const] : (p?.enum ?? []));
    type Schema = { properties?: Record<string, Property>; items?: Schema };
    type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>> };
    const doc = await http<Doc>(order.base, 'GET', '/order/openapi.json');
    assert.equal(doc.status, 200);
    const orders: string[] = [];
    for (const [path, ops] of Object.entries(doc.body.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [code, res] of Object.entries(op.responses ?? {})) {
          const schema = res.content?.['application/json']?.schema;
          // An Order, or a page of them ({ items: Order[], nextCursor }).
          const one = schema?.properties?.status ? schema : (schema?.properties?.items as Schema | undefined)?.items;
          const status = one?.properties?.status;
          if (!status || !one?.properties?.userId) continue;
          orders.push(`${method} ${path} ${code}`);
          assert.deepEqual(literals(status), CONTRACT_STATUSES, `${method} ${path} ${code} ${JSON.stringify(status)}`);
          assert.deepEqual(literals(one.properties.cancellation), ['pending'], `${method} ${path} ${code}`);
        }
      }
    }
    assert.deepEqual(orders.sort(), ['get /order 200', 'get /order/{id} 200', 'post /order 200', 'post /order 201', 'post /order/{id}/cancel 200']);
  });
});
