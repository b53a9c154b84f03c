// Generated shopping scenarios against the real services: customers, an admin and concurrent requests mixing
// placements (duplicate lines, unknown and archived products, prices shown right or stale, keys replayed by the
// same customer or another), cancels by the owner, an admin or another customer, price changes, restocks and
// archives. After each scenario the business rules are checked behind the API (fast-check, bounded runs).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createCustomer, createProduct, http, sql, stopAll, type HttpResult, type Running } from '@ecommerce/test-support';
import { startProductAndOrder } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

interface Order {
  id: string;
  userId: string;
  status: string;
  items: { productId: string; quantity: number; unitPriceCents: number | null }[];
  totalCents: number | null;
  currency: string;
  orderId?: string;
}

startUserSideForFile();

type Line = { product: number; quantity: number; shown: 'now' | 'stale' | 'none' };
type Op =
  | { kind: 'place'; customer: number; lines: Line[]; key: 'fresh' | 'same' | 'other-body' | 'other-customer' }
  | { kind: 'cancel'; by: 'owner' | 'admin' | 'stranger'; order: number }
  | { kind: 'price'; product: number; priceCents: number }
  | { kind: 'adjust'; product: number; delta: number }
  | { kind: 'archive'; product: number };

const PRODUCTS = 3;
const line = fc.record({ product: fc.integer({ min: 0, max: PRODUCTS }), quantity: fc.integer({ min: 1, max: 4 }), shown: fc.constantFrom('now' as const, 'stale' as const, 'none' as const) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('place' as const), customer: fc.integer({ min: 0, max: 1 }), lines: fc.array(line, { minLength: 1, maxLength: 4 }), key: fc.constantFrom('fresh' as const, 'same' as const, 'other-body' as const, 'other-customer' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), by: fc.constantFrom('owner' as const, 'admin' as const, 'stranger' as const), order: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('price' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }), priceCents: fc.integer({ min: 0, max: 3 }).map((n) => 100 + n) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }), delta: fc.integer({ min: -6, max: 6 }).filter((d) => d !== 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }) }) },
);

describe('generated scenarios', () => {
  let product: Running;
  let order: Running;
  before(async () => {
    ({ product, order } = await startProductAndOrder(db, user.base, { RECONCILER_ENABLED: 'false', RESERVATION_TIMEOUT_MS: '10000', MAX_QUANTITY_PER_LINE: '1000' }));
  });
  after(() => stopAll(order, product));

  it('property: stock = initial + adjustments - units of confirmed orders, reservations held exactly for confirmed orders, every charge at the price shown, keys and ownership hold', async () => {
    const customers = await Promise.all([createCustomer(user.base), createCustomer(user.base), createCustomer(user.base)]);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        runs++;
        const products = await Promise.all(Array.from({ length: PRODUCTS }, () => createProduct(product.base, admin, { stock: 8, priceCents: 100 })));
        const initial = new Map(products.map((p) => [p.id, p.stock]));
        const adjusted = new Map(products.map((p) => [p.id, 0]));
        // What the shopper was shown: the price the last GET answered (a price change racing it may move it).
        const shown = async (i: number) => (await http<{ priceCents?: number; currency: string }>(product.base, 'GET', `/product/${products[i]!.id}`)).body;
        const unknown = randomUUID();
        const placed: { customer: number; key: string; body: unknown; answer: HttpResult<Order> }[] = [];
        const orderIds: { id: string; customer: number }[] = [];
        const failures: string[] = [];
        const expect = (ok: boolean, what: string, res?: HttpResult<unknown>) => {
          if (!ok) failures.push(`${what}${res ? `: ${res.status} ${res.text.slice(0, 300)}` : ''}`);
        };
        const problemOk = (res: HttpResult<unknown>) => res.status < 400 || (res.headers.get('content-type') ?? '').startsWith('application/problem+json');

        const run = async (o: Op): Promise<void> => {
          if (o.kind === 'place') {
            const items = await Promise.all(
              o.lines.map(async (l) => {
                const productId = l.product === PRODUCTS ? unknown : products[l.product]!.id;
                if (l.shown === 'none' || l.product === PRODUCTS) return { productId, quantity: l.quantity };
                const now = await shown(l.product);
                // Archived meanwhile: nothing to be shown.
                if (now.priceCents === undefined) return { productId, quantity: l.quantity };
                return { productId, quantity: l.quantity, expectedUnitPriceCents: l.shown === 'now' ? now.priceCents : now.priceCents + 1000, expectedCurrency: now.currency };
              }),
            );
            const earlier = placed.find((p) => p.customer === o.customer);
            const key = o.key !== 'fresh' && earlier ? earlier.key : randomUUID();
            const customer = o.key === 'other-customer' && earlier ? 1 - o.customer : o.customer;
            const body = o.key === 'same' && earlier ? earlier.body : { items };
            const res = await http<Order>(order.base, 'POST', '/order', { token: customers[customer]!.token, body, headers: { 'idempotency-key': key } });
            expect(res.status < 500, 'place: no 5xx', res);
            expect(problemOk(res), 'place: problem+json', res);
            const id = res.body.id ?? res.body.orderId;
            if (id) orderIds.push({ id, customer });
            if (res.status === 201 || res.status === 200) {
              expect(res.body.userId === customers[customer]!.id, 'an order belongs to who placed it', res);
              const sent = (body as { items: { productId: string; expectedUnitPriceCents?: number }[] }).items;
              for (const [i, l] of res.body.items.entries()) {
                const e = sent[i]!.expectedUnitPriceCents;
                expect(e === undefined || e === l.unitPriceCents, `line ${i} charged ${l.unitPriceCents}, shown ${e}`, res);
              }
              expect(res.body.totalCents === res.body.items.reduce((s, l) => s + l.quantity * (l.unitPriceCents ?? 0), 0), 'total = sum of lines', res);
            }
            placed.push({ customer, key, body, answer: res });
            return;
          }
          if (o.kind === 'cancel') {
            const target = orderIds[o.order % Math.max(1, orderIds.length)];
            if (!target) return;
            const token = o.by === 'admin' ? admin : o.by === 'owner' ? customers[target.customer]!.token : customers[2]!.token;
            const res = await http<Order>(order.base, 'POST', `/order/${target.id}/cancel`, { token });
            expect(problemOk(res), 'cancel: problem+json', res);
            if (o.by === 'stranger') expect(res.status === 404, "a stranger's cancel is a 404", res);
            else expect([200, 409].includes(res.status), 'cancel: 200 or 409', res);
            if (res.status === 200) expect(res.body.status === 'cancelled', 'a 200 cancel answers cancelled', res);
            return;
          }
          if (o.kind === 'price') {
            const res = await http(product.base, 'PATCH', `/product/${products[o.product]!.id}`, { token: admin, body: { priceCents: o.priceCents } });
            expect([200, 404].includes(res.status), 'price change', res);
            return;
          }
          if (o.kind === 'adjust') {
            const res = await http(product.base, 'POST', `/product/${products[o.product]!.id}/stock`, { token: admin, body: { delta: o.delta } });
            expect([200, 404, 409].includes(res.status) && problemOk(res), 'adjust', res);
            if (res.status === 200) adjusted.set(products[o.product]!.id, adjusted.get(products[o.product]!.id)! + o.delta);
            return;
          }
          const res = await http(product.base, 'DELETE', `/product/${products[o.product]!.id}`, { token: admin });
          expect([204, 404].includes(res.status), 'archive', res);
        };
        for (const batch of batches) await Promise.all(batch.map(run));

        // Keys: under one (customer, key) every answer but a 422 names one order, placed with one body; a replay
        // of that body answers it again, any other body is a 422.
        const stored = new Map<string, { id: string; body: string }>();
        for (const p of placed) {
          if (p.answer.body.id === undefined && p.answer.body.orderId === undefined) continue;
          const group = `${p.customer} ${p.key}`;
          const id = (p.answer.body.id ?? p.answer.body.orderId)!;
          const first = stored.get(group) ?? { id, body: JSON.stringify(p.body) };
          stored.set(group, first);
          expect(first.id === id && first.body === JSON.stringify(p.body), 'one key, one order and one body', p.answer);
        }
        for (const p of placed) {
          const again = await http<Order>(order.base, 'POST', '/order', { token: customers[p.customer]!.token, body: p.body, headers: { 'idempotency-key': p.key } });
          const first = stored.get(`${p.customer} ${p.key}`);
          if (first && first.body === JSON.stringify(p.body)) expect((again.body.id ?? again.body.orderId) === first.id, 'a replay answers the first order', again);
          else expect(again.status === 422, 'another body under the key is a 422', again);
        }

        // Behind the API: stock, reservations and orders agree.
        const ids = products.map((p) => p.id);
        const stock = await sql<{ id: string; stock: number }>(db.urls.product, 'SELECT id, stock FROM catalog.products WHERE id = ANY($1::uuid[])', [ids]);
        const held = await sql<{ order_id: string }>(db.urls.product, "SELECT DISTINCT r.order_id FROM catalog.reservations r JOIN catalog.reservation_items i USING (order_id) WHERE r.status = 'reserved' AND i.product_id = ANY($1::uuid[])", [ids]);
        const orders = await sql<{ id: string; user_id: string; status: string; items: { productId: string; quantity: number }[] }>(db.urls.order, 'SELECT id, user_id, status, items FROM orders.orders WHERE id = ANY($1::uuid[])', [orderIds.map((o) => o.id)]);
        const confirmed = orders.filter((o) => o.status === 'confirmed');
        for (const { id, stock: s } of stock) {
          const units = confirmed.flatMap((o) => o.items).filter((l) => l.productId === id).reduce((n, l) => n + l.quantity, 0);
          expect(s === initial.get(id)! + adjusted.get(id)! - units, `stock of ${id} is ${s}, want ${initial.get(id)} + ${adjusted.get(id)} - ${units}`);
        }
        expect(JSON.stringify(held.map((h) => h.order_id).sort()) === JSON.stringify(confirmed.map((o) => o.id).sort()), 'reservations held exactly for confirmed orders');
        expect(orders.every((o) => !['pending', 'cancelling'].includes(o.status)), 'nothing left in flight');
        for (const o of orderIds) expect(orders.find((r) => r.id === o.id)?.user_id === customers[o.customer]!.id, 'an order is its placer’s');
        assert.deepEqual(failures, [], JSON.stringify(batches));
      }),
      { numRuns: Number(process.env.SCENARIO_RUNS ?? 25), endOnFailure: true },
    );
    console.log(`# generated scenarios: ${runs} runs`);
  });
});
