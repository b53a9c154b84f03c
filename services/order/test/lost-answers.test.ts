// Lost answers at a real point: the product service commits a reservation or a release and answers, a loopback proxy
// holds that answer, optionally SIGKILLs the order process right there (its request in flight, the product side
// decided, the order side not told), then cuts the connection without answering. fast-check picks which call (the
// n-th reservation or release of a run) and whether the process dies; a killed process is started again on its port.
// Afterwards, by SQL: nothing pending or cancelling, every order whose cancel was asked for is cancelled, a
// reservation held exactly for the confirmed orders, stock = start - confirmed units. LOST_ANSWER_RUNS sets the number
// of generated runs (4; each about 2-8 s).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createCustomer, createProduct, freePort, http, sql, stopAll, waitFor, type Running, type ServiceProcess } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { assertStockMatchesOrders, orderEnv, spawnOrderProcess } from './harness.js';
import { productProxy, type ProductProxy } from './product-proxy.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const START = 30;
const RUNS = Number(process.env.LOST_ANSWER_RUNS ?? 4);

describe('a product answer lost after its commit, the order process SIGKILLed there or not', { timeout: 180_000 }, () => {
  let product: Running;
  let proxy: ProductProxy;
  /** The cut of the run: the n-th call of that kind has its answer lost, after `onLost` (the kill) ran. */
  let cut: { kind: 'POST' | 'DELETE'; nth: number; onLost: () => Promise<unknown> } | null = null;
  const seen = { POST: 0, DELETE: 0 };
  before(async () => {
    product = await startProductService(db.urls.product, user.base);
    proxy = await productProxy(product.base, ({ method, path }) => {
      const kind = method === 'POST' && path === '/internal/reservations' ? 'POST' : method === 'DELETE' ? 'DELETE' : null;
      if (!kind) return { forward: true };
      const n = ++seen[kind];
      if (cut?.kind !== kind || cut.nth !== n) return { forward: true };
      const { onLost } = cut;
      cut = null;
      return { forward: true, drop: onLost };
    });
  });
  after(() => stopAll(proxy, product));

  it(`property (${RUNS} runs): whichever reservation or release loses its answer, with the order process killed at that moment or not, every order ends final and the books agree`, async () => {
    const port = await freePort();
    const env = orderEnv(db.urls.order, user.base, proxy.base, { PENDING_DEADLINE_MS: '6000', RESERVATION_TIMEOUT_MS: '500', RECONCILER_INTERVAL_MS: '100' });
    const buyer = await createCustomer(user.base, 'lost');
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          orders: fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 3 }), cancel: fc.boolean() }), { minLength: 1, maxLength: 5 }),
          kind: fc.constantFrom('POST' as const, 'DELETE' as const),
          at: fc.nat(),
          kill: fc.boolean(),
        }),
        async (plan) => {
          // The cut always falls on a call the run makes: the n-th placement's reservation, or the n-th cancel's release.
          if (plan.kind === 'DELETE' && !plan.orders.some((o) => o.cancel)) plan.orders[0]!.cancel = true;
          const calls = plan.kind === 'POST' ? plan.orders.length : plan.orders.filter((o) => o.cancel).length;
          const nth = 1 + (plan.at % calls);
          const p = await createProduct(product.base, admin, { stock: START });
          const procs: ServiceProcess[] = [];
          let proc = await spawnOrderProcess(env, port);
          procs.push(proc);
          let killed = 0;
          seen.POST = seen.DELETE = 0;
          let lost = 0;
          cut = {
            kind: plan.kind,
            nth,
            onLost: () => {
              lost++;
              if (!plan.kill) return Promise.resolve();
              killed++;
              return proc.kill();
            },
          };
          try {
            /** Sends `call` until the process answers it other than 5xx or no answer (starting the process again once it was killed). */
            const untilAnswered = async (call: (base: string) => Promise<{ status: number } | null>) => {
              for (let i = 0; i < 60; i++) {
                const res = await call(proc.base).catch(() => null);
                if (res && res.status < 500) return res;
                if (killed > procs.length - 1) {
                  proc = await spawnOrderProcess(env, port);
                  procs.push(proc);
                }
                await new Promise((r) => setTimeout(r, 200));
              }
              throw new Error('never answered');
            };
            const placed: string[] = [];
            for (const o of plan.orders) {
              const key = randomUUID();
              const res = (await untilAnswered((base) =>
                http<{ id: string }>(base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: o.quantity }] }, headers: { 'idempotency-key': key } }),
              )) as { status: number; body: { id: string; status: string } };
              assert.ok(res.status === 201 || res.status === 200 || res.status === 409, `placement: ${res.status}`);
              if (o.cancel && res.body.status === 'confirmed') placed.push(res.body.id);
            }
            for (const id of placed) {
              const res = (await untilAnswered((base) => http(base, 'POST', `/order/${id}/cancel`, { token: buyer.token }))) as { status: number; body: { status: string } };
              assert.equal(res.status, 200, `cancel of ${id}`);
              assert.equal(res.body.status, 'cancelled');
            }
            const ids = (await sql<{ id: string }>(db.urls.order, "SELECT id FROM orders.orders WHERE items->0->>'productId' = $1", [p.id])).map((r) => r.id);
            assert.equal(ids.length, plan.orders.length, 'one order per placement, whatever was retried');
            await waitFor(
              'every order final',
              async () => (await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [ids]))[0]!.n === 0,
              20_000,
            );
            const orders = await assertStockMatchesOrders(db, ids, product.base, p.id, START);
            // A release is lost only when its order was confirmed (a placement refused has none to cancel): never here, stock is ample.
            assert.equal(lost, 1, 'the answer of the chosen call was lost');
            for (const id of placed) assert.equal(orders.find((o) => o.id === id)?.status, 'cancelled', `the cancel of ${id} was answered`);
          } finally {
            cut = null;
            for (const pr of procs) await pr.kill();
          }
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});
