// Crash windows chosen by fast-check: confirmed orders cancelled, new ones placed (some by a client that hangs up
// mid-request) and a product restocked while the order process is SIGKILLed at a generated moment, the product service
// optionally restarted on its port meanwhile (a release or a reservation retried across it), the services' database
// connections terminated (pg_terminate_backend) at generated moments; then two replicas recover at once, their
// reconcilers racing for the leases, and one of them is SIGKILLed mid-pass. Afterwards, by SQL on both schemas:
// nothing pending or cancelling, a reservation held exactly for the confirmed orders, stock = initial + restocked -
// confirmed units. CRASH_WINDOW_RUNS sets the number of generated runs (2; each about 7-25 s).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createCustomer, createProduct, freePort, http, sql, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { assertStockMatchesOrders, orderEnv, spawnOrderProcess } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const START = 40;

describe('crash windows chosen by fast-check', { timeout: 120_000 }, () => {
  it('property: after two SIGKILLs of the order process (and a product restart) around cancels, placements and a restock, every order is final and the books agree (two replicas recovering, connections terminated)', async () => {
    const productPort = await freePort();
    let product: Running | null = await startProductService(db.urls.product, user.base, {}, productPort);
    const port = await freePort();
    const otherPort = await freePort();
    const env = orderEnv(db.urls.order, user.base, product.base, { PENDING_DEADLINE_MS: '6000', RESERVATION_TIMEOUT_MS: '300', RECONCILER_INTERVAL_MS: '100' });
    const buyer = await createCustomer(user.base, 'crashwin');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            quantities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 8 }),
            cancel: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
            // New placements in the window, some by a client that hangs up after a few ms (an aborted socket).
            fresh: fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 3 }), hangUpMs: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }) }), { maxLength: 5 }),
            restock: fc.integer({ min: 0, max: 6 }),
            firstKillMs: fc.integer({ min: 0, max: 120 }),
            productRestart: fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
            secondKillMs: fc.integer({ min: 0, max: 2500 }),
            // pg_terminate_backend of the services' connections (product and order) at these moments of the window.
            terminations: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
          }),
          async (plan) => {
            const t0 = performance.now();
            const p = await createProduct(product!.base, admin, { stock: START });
            // Every process this run started is ended by it, whatever fails.
            const started = new Set<Awaited<ReturnType<typeof spawnOrderProcess>>>();
            const spawn = async (at: number) => {
              const pr = await spawnOrderProcess(env, at);
              started.add(pr);
              return pr;
            };
            try {
              let proc = await spawn(port);
              const ids: string[] = [];
              const place = (quantity: number) =>
                http<{ id?: string; orderId?: string }>(proc.base, 'POST', '/order', {
                  token: buyer.token,
                  body: { items: [{ productId: p.id, quantity }] },
                  headers: { 'idempotency-key': randomUUID() },
                });
              for (const q of plan.quantities) {
                const r = await place(q);
                assert.equal(r.status, 201, r.text);
                ids.push(r.body.id!);
              }
              // The fault window: cancels, placements, a restock (with a key, repeated until answered) at once.
              const base = proc.base;
              const work = [
                ...ids.filter((_, i) => plan.cancel[i]).map((id) => http(base, 'POST', `/order/${id}/cancel`, { token: buyer.token }).catch(() => null)),
                ...plan.fresh.map(({ quantity, hangUpMs }) =>
                  hangUpMs === undefined
                    ? place(quantity).catch(() => null)
                    : fetch(`${base}/order`, {
                        method: 'POST',
                        headers: { authorization: `Bearer ${buyer.token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
                        body: JSON.stringify({ items: [{ productId: p.id, quantity }] }),
                        signal: AbortSignal.timeout(hangUpMs),
                      })
                        .then((r) => r.text())
                        .catch(() => null),
                ),
              ];
              const restockKey = randomUUID();
              const restock = async () => {
                if (plan.restock === 0) return;
                for (let i = 0; i < 100; i++) {
                  const r = await http(`http://127.0.0.1:${productPort}`, 'POST', `/product/${p.id}/stock`, { token: admin, body: { delta: plan.restock }, headers: { 'idempotency-key': restockKey } }).catch(() => null);
                  if (r?.status === 200) return;
                  await sleep(50);
                }
                throw new Error('restock never answered');
              };
              const restocked = restock();
              const productBounce = (async () => {
                if (plan.productRestart === undefined) return;
                await sleep(plan.productRestart);
                await product!.close();
                product = null;
                product = await startProductService(db.urls.product, user.base, {}, productPort);
              })();
              const terminated = Promise.all(
                plan.terminations.map((ms) =>
                  sleep(ms).then(() =>
                    sql(
                      db.adminUrl,
                      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('product-service', 'order-service') AND pid <> pg_backend_pid()",
                      [db.name],
                    ),
                  ),
                ),
              );
              await sleep(plan.firstKillMs);
              await proc.kill();
              await Promise.all([...work, productBounce, restocked, terminated]);
              // The orders placed in the window (answered, cut by the kill, or hung up on) are found by SQL.
              const all = await sql<{ id: string }>(db.urls.order, "SELECT id FROM orders.orders WHERE items->0->>'productId' = $1", [p.id]);
              for (const r of all) if (!ids.includes(r.id)) ids.push(r.id);

              // Two replicas recover at once (their reconcilers race for the leases); one of them is SIGKILLed mid-pass.
              const [killed, other] = await Promise.all([spawn(port), spawn(otherPort)]);
              proc = other;
              await sleep(plan.secondKillMs);
              await killed.kill();
              try {
                const inFlight = async () =>
                  (await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [ids]))[0]!.n;
                const tRecover = performance.now();
                await waitFor('every order final', async () => (await inFlight()) === 0, 30_000);
                console.log(`# run: ${Math.round(tRecover - t0)} ms to the recovery, ${Math.round(performance.now() - tRecover)} ms to every order final`);
                await assertStockMatchesOrders(db, ids, `http://127.0.0.1:${productPort}`, p.id, START + plan.restock);
              } finally {
                await proc.kill('SIGTERM');
              }
            } finally {
              for (const pr of started) void pr.kill();
            }
          },
        ),
        { numRuns: Number(process.env.CRASH_WINDOW_RUNS ?? 2), endOnFailure: true },
      );
    } finally {
      await product?.close();
    }
  });
});
