// A driver whose product-service calls outlast its drive lease, in real processes: order replica A takes placements
// and cancels, and is stopped (SIGSTOP: a GC pause, a VM stall, a starved host) at a generated moment for a generated
// time around the lease (3 x 300 ms + 1 s), its calls to the product service in flight; replica B's reconciler claims
// the orders whose leases ran out and drives them meanwhile; then A goes on (SIGCONT) and finishes its stale calls and
// writes. Both audit every 300 ms. Afterwards, by SQL on both schemas and the replicas' metrics: nothing pending or
// cancelling; a reservation held exactly for the confirmed orders; stock = start - confirmed units; an order whose
// client was told `confirmed` is still confirmed and one told `cancelled` is cancelled; and no audit had anything to
// repair (a double release, or a reservation taken for an order already final, would show as drift). STALL_RUNS sets
// the number of generated runs (2; each about 25-35 s on a loaded 2-core machine).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createCustomer, createProduct, freePort, http, metricValue, sql, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { assertStockMatchesOrders, orderEnv, spawnOrderProcess } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const START = 60;

describe('a driver stalled past its lease while its product calls are in flight', { timeout: 180_000 }, () => {
  it('property: when replica A is stopped past its leases amid placements and cancels and B drives its orders meanwhile, then once A goes on the books agree, every answer holds and no audit repairs anything', async () => {
    const product: Running = await startProductService(db.urls.product, user.base);
    const env = orderEnv(db.urls.order, user.base, product.base, { PENDING_DEADLINE_MS: '6000', RESERVATION_TIMEOUT_MS: '300', RECONCILER_INTERVAL_MS: '100', AUDIT_INTERVAL_MS: '300' });
    const buyer = await createCustomer(user.base, 'stalled');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            quantities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 8 }),
            cancel: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
            fresh: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 6 }),
            stopAtMs: fc.integer({ min: 0, max: 60 }),
            // Around the lease (1.9 s): shorter, and up to twice it.
            stoppedMs: fc.integer({ min: 500, max: 4000 }),
          }),
          async (plan) => {
            const t0 = performance.now();
            const p = await createProduct(product.base, admin, { stock: START });
            const [a, b] = await Promise.all([spawnOrderProcess(env, await freePort()), spawnOrderProcess(env, await freePort())]);
            try {
              const place = (base: string, quantity: number) =>
                http<{ id?: string; orderId?: string; status?: string }>(base, 'POST', '/order', {
                  token: buyer.token,
                  body: { items: [{ productId: p.id, quantity }] },
                  headers: { 'idempotency-key': randomUUID() },
                });
              const ids: string[] = [];
              for (const q of plan.quantities) {
                const r = await place(a.base, q);
                assert.equal(r.status, 201, r.text);
                ids.push(r.body.id!);
              }
              // What each client was told, by order id.
              const told = new Map<string, string>();
              const work = [
                ...ids
                  .filter((_, i) => plan.cancel[i])
                  .map((id) =>
                    http<{ status?: string }>(a.base, 'POST', `/order/${id}/cancel`, { token: buyer.token })
                      .then((r) => r.status === 200 && told.set(id, r.body.status!))
                      .catch(() => undefined),
                  ),
                ...plan.fresh.map((q) =>
                  place(a.base, q)
                    .then((r) => r.status === 201 && r.body.id && told.set(r.body.id, r.body.status!))
                    .catch(() => undefined),
                ),
              ];
              await sleep(plan.stopAtMs);
              a.child.kill('SIGSTOP');
              await sleep(plan.stoppedMs);
              a.child.kill('SIGCONT');
              await Promise.all(work);
              const all = await sql<{ id: string }>(db.urls.order, "SELECT id FROM orders.orders WHERE items->0->>'productId' = $1", [p.id]);
              for (const r of all) if (!ids.includes(r.id)) ids.push(r.id);

              await waitFor(
                'every order final',
                async () =>
                  (await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [ids]))[0]!.n === 0,
                30_000,
              );
              // Two audits after the last order became final (300 ms apart, on each replica).
              await sleep(800);
              const orders = await assertStockMatchesOrders(db, ids, product.base, p.id, START);
              const status = new Map(orders.map((o) => [o.id, o.status]));
              for (const [id, s] of told) assert.equal(status.get(id), s, `order ${id}: its client was told ${s}`);
              const repairs = async (base: string) => metricValue((await http(base, 'GET', '/metrics')).text, 'orders_repairs_total', ['kind="reservation_without_order"']) +
                metricValue((await http(base, 'GET', '/metrics')).text, 'orders_repairs_total', ['kind="order_without_reservation"']);
              assert.equal((await repairs(a.base)) + (await repairs(b.base)), 0, 'an audit repaired drift');
              // What B's reconciler drove of A's orders while A was stopped (the interleaving this test is about).
              const bMetrics = (await http(b.base, 'GET', '/metrics')).text;
              const byB =
                ['confirmed', 'rejected', 'failed'].reduce((n, r) => n + metricValue(bMetrics, 'orders_settled_total', [`result="${r}"`]), 0) +
                metricValue(bMetrics, 'orders_repairs_total', ['kind="cancel_finished"']);
              console.log(`# run: stopped ${plan.stoppedMs} ms, ${byB} orders driven by B; ${Math.round(performance.now() - t0)} ms; ${orders.map((o) => o.status).sort().join(' ')}`);
            } finally {
              for (const pr of [a, b]) {
                pr.child.kill('SIGCONT');
                await pr.kill();
              }
            }
          },
        ),
        { numRuns: Number(process.env.STALL_RUNS ?? 2), endOnFailure: true },
      );
    } finally {
      await product.close();
    }
  });
});
