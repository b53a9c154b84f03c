// The order process SIGKILLed while its reconciler settles a backlog: orders placed while the product service was
// away (answered 503, pending), then the product service back and the process killed in the middle of the pass that
// drives them, its claimed batch still under its leases. Started again, every order ends final and both sides
// agree: a reservation held exactly for the confirmed orders, stock = initial - their units, nothing pending.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCustomer, createProduct, freePort, http, sql, stockOf, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { orderEnv, spawnOrderProcess } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const ORDERS = 120;

describe('the reconciler killed mid-pass', { timeout: 180_000 }, () => {
  it(`when the order process is SIGKILLed while its reconciler settles ${ORDERS} pending orders, then after a restart every order is final and stock and reservations agree`, async () => {
    const productPort = await freePort();
    let product: Running | null = await startProductService(db.urls.product, user.base, {}, productPort);
    const port = await freePort();
    // A window (2/3 of 30 s) the whole test fits in: the orders are reserved, not expired; a lease of 3 x 500 ms + 1 s.
    const env = orderEnv(db.urls.order, user.base, product.base, { PENDING_DEADLINE_MS: '30000', RESERVATION_TIMEOUT_MS: '500', RECONCILER_INTERVAL_MS: '100', DB_POOL_MAX: '20' });
    let proc = await spawnOrderProcess(env, port);
    try {
      const p = await createProduct(product.base, admin, { stock: 100 });
      const buyers = await Promise.all(Array.from({ length: 4 }, () => createCustomer(user.base, 'backlog')));
      await product.close();
      product = null;
      const placed = await Promise.all(
        Array.from({ length: ORDERS }, (_, i) =>
          http<{ orderId?: string }>(proc.base, 'POST', '/order', { token: buyers[i % 4]!.token, body: { items: [{ productId: p.id, quantity: 1 + (i % 2) }] }, headers: { 'idempotency-key': randomUUID() } }),
        ),
      );
      assert.deepEqual([...new Set(placed.map((r) => r.status))], [503]);
      const ids = placed.map((r) => r.body.orderId!);

      product = await startProductService(db.urls.product, user.base, {}, productPort);
      const count = async (status: string) =>
        (await sql<{ n: number }>(db.urls.order, 'SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status = $2', [ids, status]))[0]!.n;
      // Killed once the pass has settled some of them (polled every few ms), with the rest claimed or waiting.
      for (let i = 0; i < 3000 && (await count('pending')) === ORDERS; i++) await sleep(5);
      proc.child.kill('SIGKILL');
      await proc.exited;
      const pendingAtKill = await count('pending');
      console.log(`# reconciler killed mid-pass: ${ORDERS - pendingAtKill} of ${ORDERS} settled, ${pendingAtKill} pending`);
      assert.ok(pendingAtKill > 0 && pendingAtKill < ORDERS, `killed mid-pass: ${pendingAtKill} of ${ORDERS} pending`);

      proc = await spawnOrderProcess(env, port);
      await waitFor('every order final', async () => (await count('pending')) === 0, 60_000);
      const orders = await sql<{ id: string; status: string; units: number }>(
        db.urls.order,
        `SELECT id, status, (items->0->>'quantity')::int AS units FROM orders.orders WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const held = new Set(
        (await sql<{ order_id: string }>(db.urls.product, "SELECT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [ids])).map((r) => r.order_id),
      );
      for (const o of orders) assert.equal(held.has(o.id), o.status === 'confirmed', `order ${o.id} is ${o.status}, its reservation ${held.has(o.id) ? 'held' : 'not held'}`);
      const confirmed = orders.filter((o) => o.status === 'confirmed');
      const units = confirmed.reduce((n, o) => n + o.units, 0);
      assert.equal(await stockOf(product.base, p.id), 100 - units);
      // 180 units asked of 100: the stock runs out, every other order is rejected (none failed: the window was open).
      assert.deepEqual([...new Set(orders.map((o) => o.status))].sort(), ['confirmed', 'rejected']);
      assert.ok(100 - units < 2, `stock left ${100 - units} while orders were rejected`);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await product?.close();
    }
  });
});
