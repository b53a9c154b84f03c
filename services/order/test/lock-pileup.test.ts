// More writes than the pool holds, all waiting on one lock another session holds (an operator's script, a hand-run
// fix, a stuck transaction): a customer's cancels of an order whose row is held (sent again and again, from several
// tabs), and their placements behind their hourly usage row. Each such write waits in PostgreSQL on a pooled
// connection; with more of them than DB_POOL_MAX (10) they held every connection, and a read of any other order
// waited out the pool's 5 s queue and answered 503. Reads of other orders are answered at once meanwhile; each write
// answers its final answer or 503 + Retry-After, and once the lock is gone every order ends final, the books balanced.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminUrlOn, assertProblem, createCustomer, createProduct, heldLocks, http, sql, stopAll, timed, waitFor, type Running, type Timed } from '@ecommerce/test-support';
import { assertStockMatchesOrders, startProductAndOrder } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

let product: Running;
let order: Running;

/** Resolves once at least `n` sessions of the order role wait on a lock (bounded). */
async function awaitLockWaits(n: number): Promise<void> {
  await waitFor(`${n} order-service sessions waiting on a lock`, async () => {
    const [row] = await sql<{ n: number }>(adminUrlOn(db), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [db.roles.order.role]);
    return row!.n >= n;
  });
}

type Answer = Awaited<ReturnType<typeof http>>;

describe('more writes than the pool holds, all behind one lock another session holds', { timeout: 120_000 }, () => {
  before(async () => {
    ({ product, order } = await startProductAndOrder(db, user.base));
  });
  after(() => stopAll(order, product));

  it("when a customer's cancels of an order whose row is held and their placements behind their held usage row pile up past the pool (DB_POOL_MAX 10), then reads of their other orders are answered at once meanwhile, each write answers its final answer or 503 + Retry-After, and once the lock is gone every order is final with the books balanced", async (t) => {
    const buyer = await createCustomer(user.base, 'pileup');
    const item = await createProduct(product.base, admin, { stock: 1_000 });
    const place = (key: string) => http(order.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: item.id, quantity: 1 }] }, headers: { 'idempotency-key': key } });
    const keys = [randomUUID(), randomUUID()];
    const [held, other] = await Promise.all(keys.map(place));
    assert.equal(held!.status, 201, held!.text);
    assert.equal(other!.status, 201, other!.text);
    const heldId = (held!.body as { id: string }).id;
    const otherId = (other!.body as { id: string }).id;

    // The order's row and the customer's usage row of this hour, held by one transaction of another session.
    const lock = await heldLocks(
      adminUrlOn(db),
      `WITH o AS (SELECT 1 FROM orders.orders WHERE id = $1 FOR UPDATE),
            u AS (SELECT 1 FROM orders.customer_usage WHERE user_id = $2 AND hour = date_trunc('hour', now()) FOR UPDATE)
       SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM u)`,
      [heldId, buyer.id],
    );
    const writes: Promise<Timed<Answer>>[] = [];
    const placements: string[] = [];
    const reads: Promise<Timed<Answer>>[] = [];
    try {
      for (let i = 0; i < 12; i++) writes.push(timed(() => http(order.base, 'POST', `/order/${heldId}/cancel`, { token: buyer.token })));
      for (let i = 0; i < 12; i++) {
        const key = randomUUID();
        placements.push(key);
        writes.push(timed(() => place(key)));
      }
      // As many as may hold a connection at once wait on the lock (8 of 10 with the share; before, all 10).
      await awaitLockWaits(8);
      for (let i = 0; i < 6; i++) {
        await sleep(250);
        reads.push(timed(() => http(order.base, 'GET', `/order/${otherId}`, { token: buyer.token })));
        reads.push(timed(() => http(order.base, 'GET', '/order?limit=5', { token: buyer.token })));
      }
      await Promise.all(reads);
    } finally {
      await lock.end();
    }
    const read = (await Promise.all(reads)).map(({ res, ms }) => `${res.status} in ${Math.round(ms)} ms`);
    t.diagnostic(`reads: ${read.join(', ')}`);
    assert.ok(
      read.every((r) => /^200 in \d{1,3} ms$/.test(r)),
      `reads of other orders behind the writes answered: ${read.join(', ')}`,
    );
    const written = await Promise.all(writes);
    t.diagnostic(`writes: ${written.map(({ res, ms }) => `${res.status} in ${Math.round(ms)} ms`).join(', ')}`);
    for (const { res } of written) {
      if (res.status === 200 || res.status === 201) continue;
      assertProblem(res, 503, 'service-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    }

    // Once the lock is gone: the cancel finished (by a request or the reconciler), every placement final.
    const allKeys = [...keys, ...placements];
    await waitFor('every order final', async () => {
      const [row] = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE idempotency_key = ANY($1) AND status IN ('pending', 'cancelling')", [allKeys]);
      return row!.n === 0;
    }, 60_000);
    const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders WHERE idempotency_key = ANY($1)', [allKeys])).map((r) => r.id);
    const orders = await assertStockMatchesOrders(db, ids, product.base, item.id, 1_000);
    assert.equal(orders.find((o) => o.id === heldId)?.status, 'cancelled');
  });
});
