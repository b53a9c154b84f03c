// The order service's database connection cut between two steps of a placement or a cancel (the test-support
// databaseProxy): the statement never sent, sent and run but its answer lost, or answered and then the connection
// gone; the database then refuses connections until it is back. Whatever the cut, the request answers the final
// answer or 503 problem+json (never a 500, never a hang, the process alive), and once the database is back the
// client's retry (same key, repeated cancel) and the reconciler reach one final state: stock = initial - units of
// confirmed orders, a reservation held exactly for them, nothing pending or cancelling.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertProblem, createCustomer, createProduct, databaseProxy, http, sql, stockOf, stopAll, waitFor, type CutPoint, type DatabaseProxy, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { startOrderService } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

interface Body {
  id?: string;
  status?: string | number;
  orderId?: string;
  orderStatus?: string;
}

startUserSideForFile();

let proxy: DatabaseProxy;
let product: Running;
let order: Running;
let buyer: string;

describe('the order database cut between two steps', { timeout: 240_000 }, () => {
before(async () => {
  proxy = await databaseProxy(db.urls.order);
  product = await startProductService(db.urls.product, user.base);
  // A short call deadline (its lease: 3 x 300 ms + 1 s), so a dead driver's order is settled in seconds; a deadline
  // whose reservation window (2/3 of it, 6 s) a cut, the database's 400 ms away and the retries fit in on a loaded
  // machine (with 3 s, a window of 2 s, the retry after a cut at insert_pending once found its order failed, expired).
  order = await startOrderService(proxy.url, user.base, product.base, { RESERVATION_TIMEOUT_MS: '300', PENDING_DEADLINE_MS: '9000', RECONCILER_INTERVAL_MS: '150', DB_POOL_MAX: '4' });
  buyer = (await createCustomer(user.base, 'cuts')).token;
});
after(async () => {
  await stopAll(order, product);
  await proxy?.close();
});

const place = (items: unknown, key: string) => http<Body>(order.base, 'POST', '/order', { token: buyer, body: { items }, headers: { 'idempotency-key': key } });
const cancel = (id: string) => http<Body>(order.base, 'POST', `/order/${id}/cancel`, { token: buyer });

/** The answer of a request cut short: the final answer it was going for, or a 503 problem (never a 500). */
function cutAnswer(res: { status: number; headers: Headers; body: unknown; text: string }, final: number, label: string): void {
  if (res.status === final) return;
  assert.equal(res.status, 503, `${label}: ${res.status} ${res.text}`);
  assertProblem(res, 503);
}

/** Every order of this product settled, stock and reservations agreeing with the confirmed orders. */
async function assertSettled(productId: string, initial: number, orderIds: string[]): Promise<void> {
  await waitFor('every order final', async () => {
    const rows = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [orderIds]);
    return rows[0]!.n === 0;
  });
  const orders = await sql<{ id: string; status: string; units: number }>(
    db.urls.order,
    `SELECT id, status, (SELECT sum((l->>'quantity')::int) FROM jsonb_array_elements(items) l)::int AS units FROM orders.orders WHERE id = ANY($1::uuid[])`,
    [orderIds],
  );
  const held = new Set(
    (await sql<{ order_id: string }>(db.urls.product, "SELECT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [orderIds])).map((r) => r.order_id),
  );
  for (const o of orders) assert.equal(held.has(o.id), o.status === 'confirmed', `order ${o.id} is ${o.status}, its reservation ${held.has(o.id) ? 'held' : 'not held'}`);
  const confirmedUnits = orders.filter((o) => o.status === 'confirmed').reduce((n, o) => n + o.units, 0);
  assert.equal(await stockOf(product.base, productId), initial - confirmedUnits);
}

/** Cuts the connection at `statement` (at `at`) during `send`, the database away for `downMs`, then back. */
async function cutDuring<T>(statement: string, at: CutPoint, send: () => Promise<T>, downMs = 400, skip = 0): Promise<T> {
  const cut = proxy.cutAt(statement, { at, skip });
  const answer = send();
  await cut;
  await sleep(downMs);
  await proxy.restore();
  return answer;
}

/** Sends `send` until it answers something other than 503, as a client told Retry-After would (bounded). */
async function untilFinal(send: () => Promise<{ status: number; headers: Headers; text: string; body: Body }>, label: string) {
  for (let i = 0; ; i++) {
    const res = await send();
    if (res.status !== 503) return res;
    assertProblem(res as never, 503);
    assert.ok(i < 40, `${label}: still 503 after ${i} retries: ${res.text}`);
    await sleep(Math.min(Number(res.headers.get('retry-after') ?? 1), 2) * 250);
  }
}

const points: CutPoint[] = ['before', 'sent', 'answered'];

describe('the order database cut mid-placement', { timeout: 120_000 }, () => {
  for (const statement of ['order_insert_pending', 'order_transition']) {
    for (const at of points) {
      it(`when the connection is cut ${at} ${statement}, then 201 or 503, and the retry with the key gets the one confirmed order`, async () => {
        const p = await createProduct(product.base, admin, { stock: 10 });
        const key = randomUUID();
        const items = [{ productId: p.id, quantity: 3 }];
        const res = await cutDuring(statement, at, () => place(items, key));
        cutAnswer(res, 201, `${statement} ${at}`);
        const retry = await untilFinal(() => place(items, key), 'the retry');
        assert.ok(retry.status === 200 || retry.status === 201, `${statement} ${at}: the retry ${retry.status} ${retry.text}`);
        assert.equal(retry.body.status, 'confirmed');
        const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders WHERE idempotency_key = $1', [key])).map((r) => r.id);
        assert.equal(ids.length, 1);
        await assertSettled(p.id, 10, ids);
        assert.equal((await http(order.base, 'GET', '/readyz')).status, 200);
      });
    }
  }
});

describe('the order database cut mid-cancel', { timeout: 120_000 }, () => {
  // The read, the intent (confirmed -> cancelling) and, after the release, the last step (-> cancelled).
  for (const [statement, skip, step] of [['order_by_id', 0, 'the read'], ['order_transition', 0, 'the intent'], ['order_transition', 1, 'the last step']] as const) {
    for (const at of points) {
      it(`when the connection is cut ${at} ${statement} (${step}) of a cancel, then 200 or 503, and the repeated cancel gets the cancelled order, stock back once`, async () => {
        const p = await createProduct(product.base, admin, { stock: 10 });
        const placed = await place([{ productId: p.id, quantity: 4 }], randomUUID());
        assert.equal(placed.status, 201, placed.text);
        const id = placed.body.id!;
        const res = await cutDuring(statement, at, () => cancel(id), 400, skip);
        cutAnswer(res, 200, `${statement} ${at}`);
        const repeat = await untilFinal(() => cancel(id), 'the repeated cancel');
        assert.equal(repeat.status, 200, repeat.text);
        assert.equal(repeat.body.status, 'cancelled');
        await assertSettled(p.id, 10, [id]);
      });
    }
  }
});
});
