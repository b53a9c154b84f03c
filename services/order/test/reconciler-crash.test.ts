// The order process SIGKILLed while its reconciler settles a backlog: orders placed while the product service was
// away (answered 503, pending), then the product service back and the process killed in the middle of the pass that
// drives them, its claimed batch still under its leases. Started again, every order ends final and both sides
// agree: a reservation held exactly for the confirmed orders, stock = initial - their units, nothing pending.
// And SIGTERMed in the middle of such a pass (a rollout while a slow product service works through a backlog): the
// chunk in flight is finished, the rest of the batch given back at once, and the process exits promptly and cleanly.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCustomer, createProduct, freePort, http, sql, stockOf, stopAllIfItFails, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { orderEnv, spawnOrderProcess } from './harness.js';
import { productProxy } from './product-proxy.js';
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
    let proc = await stopAllIfItFails(spawnOrderProcess(env, port), product);
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
      await proc.kill();
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
      await proc.kill('SIGTERM');
      await product?.close();
    }
  });
});

describe('the reconciler stopped mid-pass (SIGTERM)', { timeout: 180_000 }, () => {
  it('when the order process is SIGTERMed while its reconciler drives a backlog through a slow product service, then it exits within about one chunk, not after the whole pass, cleanly, the orders it had not driven free at once; restarted, all are final and the books agree', async () => {
    const backlog = 80;
    const product = await startProductService(db.urls.product, user.base);
    // The product service away (503), then answering each call 700 ms late: a pass over 80 orders, 8 at a time, ~7 s.
    const state = { mode: 'away' as 'away' | 'slow' | 'fast', forwarded: 0 };
    const proxy = await productProxy(product.base, ({ method, path }) => {
      if (state.mode === 'away') return { status: 503, slug: 'service-unavailable' };
      if (method === 'POST' && path === '/internal/reservations') state.forwarded++;
      return { forward: true, delayMs: state.mode === 'slow' ? 700 : 0 };
    });
    const port = await freePort();
    // A grace period far above the pass: a shutdown that waits for the whole pass still ends on its own, and cleanly.
    const env = orderEnv(db.urls.order, user.base, proxy.base, { PENDING_DEADLINE_MS: '60000', RESERVATION_TIMEOUT_MS: '2000', RECONCILER_INTERVAL_MS: '100', DB_POOL_MAX: '20', SHUTDOWN_TIMEOUT_MS: '30000' });
    let proc = await stopAllIfItFails(spawnOrderProcess(env, port), proxy, product);
    try {
      const p = await createProduct(product.base, admin, { stock: 1000 });
      const buyer = await createCustomer(user.base, 'rollout');
      const placed = await Promise.all(
        Array.from({ length: backlog }, () =>
          http<{ orderId?: string }>(proc.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: 2 }] }, headers: { 'idempotency-key': randomUUID() } }),
        ),
      );
      assert.deepEqual([...new Set(placed.map((r) => r.status))], [503]);
      const ids = placed.map((r) => r.body.orderId!);
      const count = async (where: string) => (await sql<{ n: number }>(db.urls.order, `SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND ${where}`, [ids]))[0]!.n;

      state.mode = 'slow';
      // SIGTERM once the pass has sent its first reservations (the reconciler backs off up to 4 s while it was away).
      await waitFor('the reconciler to drive the backlog', async () => state.forwarded > 0, 20_000);
      const t0 = Date.now();
      proc.child.kill('SIGTERM');
      const code = await proc.exited;
      const exitMs = Date.now() - t0;
      const pendingAtExit = await count("status = 'pending'");
      console.log(`# reconciler SIGTERMed mid-pass: exit ${String(code)} after ${exitMs} ms, ${backlog - pendingAtExit} of ${backlog} settled, ${pendingAtExit} pending`);
      assert.equal(code, 0);
      assert.ok(exitMs < 6_000, `exited ${exitMs} ms after SIGTERM (the pass alone takes over 7 s)`);
      assert.ok(pendingAtExit > 0, 'stopped mid-pass, not after it');
      assert.equal(await count("status = 'pending' AND lease_until > now()"), 0, 'the orders not driven are free for the next driver at once');

      state.mode = 'fast';
      proc = await spawnOrderProcess(env, port);
      await waitFor('every order final', async () => (await count("status = 'pending'")) === 0, 60_000);
      assert.equal(await count("status = 'confirmed'"), backlog);
      const held = await sql<{ n: number }>(db.urls.product, "SELECT count(*)::int AS n FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [ids]);
      assert.equal(held[0]!.n, backlog);
      assert.equal(await stockOf(product.base, p.id), 1000 - 2 * backlog);
    } finally {
      await proc.kill('SIGTERM');
      await proxy.close();
      await product.close();
    }
  });
});
