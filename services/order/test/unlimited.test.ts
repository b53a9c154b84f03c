// MAX_UNITS_PER_CUSTOMER_PER_HOUR=0 (no hourly limit, as `npm run bench` runs): the pending order is written by
// a plain INSERT instead of place_pending_order. Same row, same lease, same idempotency as with a limit.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Database, Metrics, uuidv7 } from '@ecommerce/kit';
import { createCustomer, createProduct, http, sql as sqlAt, stockOf, stopAll, type Running } from '@ecommerce/test-support';
import { OrderRepository } from '../src/data/order-repository.js';
import { startProductAndOrder } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();
let product: Running;
let order: Running;

const sql = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) => sqlAt<R>(db.urls.order, text, values);

const place = (token: string, items: unknown, key: string) =>
  http<{ id: string; status: string; type?: string }>(order.base, 'POST', '/order', { token, body: { items }, headers: { 'idempotency-key': key } });

describe('no hourly limit (MAX_UNITS_PER_CUSTOMER_PER_HOUR=0)', () => {
  // Inside the describe, so they stop before the file's user side (and its database) does.
  before(async () => {
    ({ product, order } = await startProductAndOrder(db, user.base, { RECONCILER_ENABLED: 'false', MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0' }));
  });
  after(() => stopAll(order, product));

  it('when orders are placed, then each is confirmed once, a replay answers the same order, another body under the key is 422, and no usage is counted', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 100 });
    const key = randomUUID();
    const first = await place(buyer.token, [{ productId: p.id, quantity: 4 }], key);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.status, 'confirmed');
    const replay = await place(buyer.token, [{ productId: p.id, quantity: 4 }], key);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.id, first.body.id);
    assert.equal((await place(buyer.token, [{ productId: p.id, quantity: 5 }], key)).body.type, 'https://ecommerce.local/problems/idempotency-key-reused');
    for (let i = 0; i < 30; i++) assert.equal((await place(buyer.token, [{ productId: p.id, quantity: 2 }], randomUUID())).status, 201);
    assert.equal(await stockOf(product.base, p.id), 100 - 4 - 60);
    const [row] = await sql<{ status: string; lease_until: Date | null; deadline_at: Date; created_at: Date }>(
      'SELECT status, lease_until, deadline_at, created_at FROM orders.orders WHERE id = $1',
      [first.body.id],
    );
    assert.equal(row?.status, 'confirmed');
    assert.equal(row?.lease_until, null, 'the lease taken at insert is cleared by the final write');
    assert.ok(row && row.deadline_at > row.created_at);
    assert.equal((await sql('SELECT 1 FROM orders.customer_usage')).length, 0);
  });

  it('when the pending order is written, then it holds the drive lease, and a second write under its key writes nothing', async () => {
    const database = new Database({ url: db.urls.order, schema: 'orders', poolMax: 1, applicationName: 'unlimited-test', metrics: new Metrics('test', '0', { defaultMetrics: false }) });
    try {
      const o = { id: uuidv7(), userId: randomUUID(), items: [{ productId: randomUUID(), quantity: 1, unitPriceCents: null }], key: randomUUID(), requestHash: 'h', deadlineMs: 15_000, leaseMs: 7_000, maxUnitsPerHour: 0, traceparent: null };
      const orders = new OrderRepository(database);
      const row = await orders.insertPending(o);
      assert.equal(row?.status, 'pending');
      const [times] = await sql<{ lease_ms: number; deadline_ms: number }>(
        'SELECT EXTRACT(EPOCH FROM lease_until - created_at)::float8 * 1000 AS lease_ms, EXTRACT(EPOCH FROM deadline_at - created_at)::float8 * 1000 AS deadline_ms FROM orders.orders WHERE id = $1',
        [o.id],
      );
      assert.ok(Math.abs((times?.lease_ms ?? 0) - 7_000) < 1_000, `lease ${times?.lease_ms} ms`);
      assert.ok(Math.abs((times?.deadline_ms ?? 0) - 15_000) < 1_000, `deadline ${times?.deadline_ms} ms`);
      assert.equal(await orders.insertPending({ ...o, id: uuidv7() }), null);
    } finally {
      await database.close();
    }
  });
});
