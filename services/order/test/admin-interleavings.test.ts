// Generated interleavings of an admin's conditional and keyed writes with shoppers' placements, replays and cancels,
// against the real product and order services (the order service's reconciler and audit running on short
// intervals). What the other generated tests do not draw: copies of one stock adjustment key sent at once with
// different deltas, price changes sent with the If-Match of the version an admin read (two admins racing on one
// version), archives under If-Match, copies of one placement sent at once while the order is cancelled, and cancels
// sent twice at once. Checked behind the API after each scenario (fast-check, bounded in runs and time:
// ADMIN_INTERLEAVING_RUNS, 20, and ADMIN_INTERLEAVING_BUDGET_MS, 90 s). Then admin writes drawn at fixed points: a
// rename with a price change committed while a reservation waits on the product's row, or between a reservation and
// the replay that confirms its order (its first answer lost), and an archive there.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createCustomer, createProduct, heldLocks, http, metricValue, sql, stopAll, type HttpResult, type Running } from '@ecommerce/test-support';
import { startOrderService, startProductAndOrder } from './harness.js';
import { productProxy, type ProductProxy } from './product-proxy.js';
import { startProductService } from '@ecommerce/product-service/testing';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

interface Line {
  productId: string;
  quantity: number;
  unitPriceCents: number | null;
  name?: string;
}
interface Answer {
  id?: string;
  orderId?: string;
  userId?: string;
  status?: string | number;
  type?: string;
  orderStatus?: string;
  items?: Line[];
  totalCents?: number | null;
  currency?: string;
  createdAt?: string;
  priceCents?: number;
  version?: number;
  stock?: number;
}

const PRODUCTS = 2;
const INITIAL_STOCK = 6;
const INITIAL_PRICE = 100;
/** Every version of a product is named after its price, so a line whose name and price are of two versions shows. */
const label = (cents: number) => `Item at ${cents}`;

type Op =
  | { kind: 'place'; customer: number; lines: { product: number; quantity: number; shown: boolean }[]; copies: number; cancelWith: boolean }
  | { kind: 'replay'; placement: number; copies: number }
  | { kind: 'cancel'; order: number; copies: number; byAdmin: boolean }
  | { kind: 'price'; product: number; prices: number[] }
  | { kind: 'stock'; product: number; key: number; deltas: number[] }
  | { kind: 'archive'; product: number; conditional: boolean };

const product = fc.integer({ min: 0, max: PRODUCTS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('place' as const),
      customer: fc.integer({ min: 0, max: 1 }),
      lines: fc.array(fc.record({ product, quantity: fc.integer({ min: 1, max: 3 }), shown: fc.boolean() }), { minLength: 1, maxLength: 3 }),
      copies: fc.integer({ min: 1, max: 3 }),
      cancelWith: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), placement: fc.nat(), copies: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat(), copies: fc.integer({ min: 1, max: 2 }), byAdmin: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('price' as const), product, prices: fc.array(fc.integer({ min: 1, max: 4 }).map((n) => INITIAL_PRICE + n), { minLength: 1, maxLength: 2 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('stock' as const),
      product,
      key: fc.integer({ min: 0, max: 2 }),
      deltas: fc.array(fc.integer({ min: -4, max: 4 }).filter((d) => d !== 0), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive' as const), product, conditional: fc.boolean() }) },
);

describe('generated interleavings of conditional and keyed admin writes with placements, replays and cancels', { timeout: 300_000 }, () => {
  let productService: Running;
  let order: Running;
  before(async () => {
    ({ product: productService, order } = await startProductAndOrder(db, user.base, { RECONCILER_INTERVAL_MS: '100', AUDIT_INTERVAL_MS: '300', PENDING_DEADLINE_MS: '3000' }));
  });
  after(() => stopAll(order, productService));

  /** Waits until a statement of the product service's that contains `text` waits on a lock another transaction holds. */
  const waitingOnLock = async (text: string, what: string) => {
    for (let i = 0; i < 300; i++) {
      const [row] = await sql<{ n: number }>(db.adminUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND position($2 in query) > 0`, [db.name, text]);
      if (row!.n > 0) return;
      await sleep(10);
    }
    throw new Error(`${what} never came to wait on a lock`);
  };

  it('when an admin renames and reprices a product in one PATCH while an order for it waits on the product row, then the order line carries the name and the price of one version', async () => {
    const shopper = await createCustomer(user.base);
    const p = await createProduct(productService.base, admin, { name: 'Coffee 250 g', priceCents: 500, stock: 10 });
    // Another session holds the row (any admin write in flight), so the PATCH and then the reservation queue behind it.
    const lock = await heldLocks(db.urls.product, 'SELECT 1 FROM catalog.products WHERE id = $1 FOR UPDATE', [p.id]);
    let patching: Promise<HttpResult<Answer>> | undefined;
    let placing: Promise<HttpResult<Answer>> | undefined;
    try {
      patching = http<Answer>(productService.base, 'PATCH', `/product/${p.id}`, { token: admin, body: { name: 'Coffee 1 kg', priceCents: 1800 } });
      await waitingOnLock('UPDATE products SET', 'the PATCH');
      placing = http(order.base, 'POST', '/order', { token: shopper.token, body: { items: [{ productId: p.id, quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } });
      await waitingOnLock('reserve_stock(', 'the reservation');
    } finally {
      await lock.end();
    }
    const [patched, placed] = await Promise.all([patching!, placing!]);
    assert.equal(patched.status, 200, patched.text);
    assert.equal(placed.status, 201, placed.text);
    const line = placed.body.items![0]!;
    // The reservation took the row as the PATCH left it: 1800. Its name must be that version's too, not the one
    // before (an order for "Coffee 250 g" charged the 1 kg price).
    assert.deepEqual({ name: line.name, unitPriceCents: line.unitPriceCents }, { name: 'Coffee 1 kg', unitPriceCents: 1800 }, placed.text);
    const stored = await http<Answer>(order.base, 'GET', `/order/${placed.body.id}`, { token: shopper.token });
    assert.deepEqual(stored.body.items, placed.body.items);
  });

  it('property: stock = initial + each key applied once - confirmed units, held = reserved lines, totals = lines at prices the product had (the one shown), replays alike, no lost price update', async () => {
    const customers = await Promise.all([createCustomer(user.base), createCustomer(user.base)]);
    const deadline = Date.now() + Number(process.env.ADMIN_INTERLEAVING_BUDGET_MS ?? 90_000);
    let runs = 0;
    const seen: Record<string, number> = {};
    const tally = (what: string) => (seen[what] = (seen[what] ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (batches) => {
        if (Date.now() > deadline) return;
        runs++;
        const products = await Promise.all(Array.from({ length: PRODUCTS }, () => createProduct(productService.base, admin, { stock: INITIAL_STOCK, priceCents: INITIAL_PRICE, name: label(INITIAL_PRICE) })));
        const ids = products.map((p) => p.id);
        const keyOf = (k: number) => `restock-${runs}-${k}`;
        const failures: string[] = [];
        const expect = (ok: boolean, what: string, res?: HttpResult<unknown>) => {
          if (!ok) failures.push(`${what}${res ? `: ${res.status} ${res.text.slice(0, 300)}` : ''}`);
        };
        const placed: { customer: number; key: string; body: { items: { productId: string; quantity: number; expectedUnitPriceCents?: number }[] }; start: number; answers: HttpResult<Answer>[] }[] = [];
        const known = new Map<string, number>();
        const cancels: { orderId: string; answer: HttpResult<Answer> }[] = [];
        const prices = new Map(ids.map((id) => [id, new Set([INITIAL_PRICE])]));
        const patches: { product: string; ifMatch: number; cents: number; answer: HttpResult<Answer> }[] = [];
        const adjustments: { product: string; key: string; delta: number; answer: HttpResult<Answer> }[] = [];
        const archives: { product: string; end: number }[] = [];

        const send = async (entry: (typeof placed)[number]) => {
          const res = await http<Answer>(order.base, 'POST', '/order', { token: customers[entry.customer]!.token, body: entry.body, headers: { 'idempotency-key': entry.key } });
          tally(`place ${res.status}`);
          entry.answers.push(res);
          const id = res.body?.id ?? res.body?.orderId;
          if (id) known.set(id, entry.customer);
          expect(res.status < 500 || (res.status === 503 && res.body.orderStatus === 'pending' && id !== undefined), 'place: no 5xx but a 503 naming its pending order', res);
          return res;
        };
        const cancel = async (orderId: string, token: string) => {
          const res = await http<Answer>(order.base, 'POST', `/order/${orderId}/cancel`, { token });
          tally(`cancel ${res.status}`);
          cancels.push({ orderId, answer: res });
          expect([200, 409].includes(res.status) || (res.status === 503 && res.body.orderStatus === 'confirmed'), 'cancel: 200, 409 or a 503 naming the cancel recorded', res);
          return res;
        };

        const run = async (o: Op): Promise<void> => {
          if (o.kind === 'place') {
            const items = await Promise.all(
              o.lines.map(async (l) => {
                const productId = ids[l.product]!;
                if (!l.shown) return { productId, quantity: l.quantity };
                const now = await http<Answer>(productService.base, 'GET', `/product/${productId}`);
                return now.body.priceCents === undefined ? { productId, quantity: l.quantity } : { productId, quantity: l.quantity, expectedUnitPriceCents: now.body.priceCents };
              }),
            );
            const entry = { customer: o.customer, key: randomUUID(), body: { items }, start: performance.now(), answers: [] };
            placed.push(entry);
            // Copies of one placement at once (a double click, a retry on a slow answer), and the customer's cancel
            // sent as soon as any copy names the order, while the others may still be driving or replaying it.
            await Promise.all(
              Array.from({ length: o.copies }, async () => {
                const res = await send(entry);
                const id = res.body?.id ?? res.body?.orderId;
                if (o.cancelWith && id && res.status < 300) await cancel(id, customers[o.customer]!.token);
              }),
            );
            return;
          }
          if (o.kind === 'replay') {
            const entry = placed[o.placement % Math.max(1, placed.length)];
            if (entry) await Promise.all(Array.from({ length: o.copies }, () => send(entry)));
            return;
          }
          if (o.kind === 'cancel') {
            const all = [...known.entries()];
            const target = all[o.order % Math.max(1, all.length)];
            if (target) await Promise.all(Array.from({ length: o.copies }, () => cancel(target[0], o.byAdmin ? admin : customers[target[1]]!.token)));
            return;
          }
          if (o.kind === 'price') {
            // Admins who read the same version each change the price under If-Match of it.
            const read = await http<Answer>(productService.base, 'GET', `/product/${ids[o.product]}`);
            if (read.status !== 200) return;
            const version = read.body.version!;
            await Promise.all(
              o.prices.map(async (cents) => {
                const res = await http<Answer>(productService.base, 'PATCH', `/product/${ids[o.product]}`, { token: admin, body: { priceCents: cents, name: label(cents) }, headers: { 'if-match': `"${version}"` } });
                tally(`price ${res.status}`);
                expect([200, 404, 412].includes(res.status), 'price change: 200, 404 or 412', res);
                if (res.status === 200) {
                  prices.get(ids[o.product]!)!.add(cents);
                  expect(res.body.priceCents === cents, 'a 200 price change answers its price', res);
                }
                patches.push({ product: ids[o.product]!, ifMatch: version, cents, answer: res });
              }),
            );
            return;
          }
          if (o.kind === 'stock') {
            // Copies of one keyed adjustment at once, possibly with different deltas under the key.
            await Promise.all(
              o.deltas.map(async (delta) => {
                const res = await http<Answer>(productService.base, 'POST', `/product/${ids[o.product]}/stock`, { token: admin, body: { delta }, headers: { 'idempotency-key': keyOf(o.key) } });
                tally(`stock ${res.status}`);
                expect([200, 404, 409, 422].includes(res.status), 'stock change: 200, 404, 409 or 422', res);
                if (res.status === 200) expect(typeof res.body.stock === 'number' && res.body.stock >= 0, 'stock answered is never negative', res);
                adjustments.push({ product: ids[o.product]!, key: keyOf(o.key), delta, answer: res });
              }),
            );
            return;
          }
          const headers: Record<string, string> = {};
          if (o.conditional) {
            const read = await http<Answer>(productService.base, 'GET', `/product/${ids[o.product]}`);
            if (read.status !== 200) return;
            headers['if-match'] = `"${read.body.version}"`;
          }
          const res = await http(productService.base, 'DELETE', `/product/${ids[o.product]}`, { token: admin, headers });
          tally(`archive ${res.status}`);
          expect([204, 404, 412].includes(res.status), 'archive: 204, 404 or 412', res);
          if (res.status === 204) archives.push({ product: ids[o.product]!, end: performance.now() });
        };
        for (const batch of batches) await Promise.all(batch.map(run));

        // The reconciler finishes what requests left pending or cancelling.
        const orderIds = () => [...known.keys()];
        const t0 = Date.now();
        for (;;) {
          const [open] = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [orderIds()]);
          if (open!.n === 0) break;
          if (Date.now() - t0 > 15_000) {
            failures.push(`${open!.n} orders still pending or cancelling 15 s after the scenario`);
            break;
          }
          await sleep(100);
        }

        // Keys of stock adjustments: one delta applied per key, the one every 200 under it was sent with.
        const applied = new Map<string, number>();
        for (const a of adjustments) {
          const group = `${a.product} ${a.key}`;
          if (a.answer.status === 200) {
            const first = applied.get(group);
            expect(first === undefined || first === a.delta, `two deltas (${first}, ${a.delta}) both answered 200 under one key`, a.answer);
            applied.set(group, first ?? a.delta);
          }
        }
        const storedKeys = await sql<{ product_id: string; idempotency_key: string; delta: number }>(db.urls.product, 'SELECT product_id, idempotency_key, delta FROM catalog.stock_adjustments WHERE product_id = ANY($1::uuid[])', [ids]);
        for (const k of storedKeys) expect(applied.get(`${k.product_id} ${k.idempotency_key}`) === k.delta, `key ${k.idempotency_key} stored delta ${k.delta}, answered ${applied.get(`${k.product_id} ${k.idempotency_key}`)}`);
        for (const a of adjustments) {
          if (a.answer.status !== 422) continue;
          const stored = storedKeys.find((k) => k.product_id === a.product && k.idempotency_key === a.key);
          expect(stored !== undefined && stored.delta !== a.delta, `a 422 under key ${a.key} (delta ${a.delta}) names a key stored with another delta (${stored?.delta})`, a.answer);
        }
        expect(storedKeys.length === applied.size, `${storedKeys.length} keys stored, ${applied.size} answered 200`);

        // No lost price update: under one If-Match version, every 200 carries one price (applied, or applied already).
        const byVersion = new Map<string, Set<number>>();
        for (const p of patches) if (p.answer.status === 200) byVersion.set(`${p.product} ${p.ifMatch}`, (byVersion.get(`${p.product} ${p.ifMatch}`) ?? new Set()).add(p.cents));
        for (const [k, s] of byVersion) expect(s.size === 1, `two prices (${[...s].join(', ')}) answered 200 under If-Match of one version (${k})`);

        // Orders: one per key; each answer under a key names it, with the same lines, prices and total.
        const rows = await sql<{ id: string; user_id: string; idempotency_key: string; status: string; items: Line[]; total_cents: string | null }>(
          db.urls.order,
          'SELECT id, user_id, idempotency_key, status, items, total_cents FROM orders.orders WHERE user_id = ANY($1::uuid[]) AND id = ANY($2::uuid[])',
          [customers.map((c) => c.id), orderIds()],
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const p of placed) {
          const mine = rows.filter((r) => r.user_id === customers[p.customer]!.id && r.idempotency_key === p.key);
          expect(mine.length === 1, `one order per key, found ${mine.length}`);
          const row = mine[0];
          if (!row) continue;
          const final = await http<Answer>(order.base, 'GET', `/order/${row.id}`, { token: customers[p.customer]!.token });
          for (const a of p.answers) {
            expect((a.body.id ?? a.body.orderId) === row.id, 'every answer under a key names its one order', a);
            if (a.status === 200 || a.status === 201) {
              const same = (x: Answer) => JSON.stringify([x.id, x.userId, x.items, x.totalCents, x.currency, x.createdAt]);
              expect(same(a.body) === same(final.body), `an answer under a key shows the order as stored: ${same(a.body)} vs ${same(final.body)}`, a);
              expect(['confirmed', 'cancelled'].includes(row.status), `answered ${String(a.body.status)}, the order ended ${row.status}`, a);
            }
            if (a.status === 409 || a.status === 404 || a.status === 422) expect(['rejected', 'failed'].includes(row.status), `answered ${a.status}, the order ended ${row.status}`, a);
          }
          if (row.status === 'confirmed' || row.status === 'cancelled') {
            const items = final.body.items ?? [];
            const total = items.reduce((n, l) => n + l.quantity * (l.unitPriceCents ?? NaN), 0);
            expect(final.body.totalCents === total && Number(row.total_cents) === total, `total ${final.body.totalCents} (stored ${row.total_cents}) = sum of lines ${total}`, final);
            for (const [i, l] of items.entries()) {
              const shown = p.body.items[i]!.expectedUnitPriceCents;
              if (shown !== undefined) expect(l.unitPriceCents === shown, `line ${i} charged ${l.unitPriceCents}, shown ${shown}`, final);
              expect(prices.get(l.productId)!.has(l.unitPriceCents!), `line ${i} charged ${l.unitPriceCents}, a price the product never had`, final);
              expect(l.name === label(l.unitPriceCents!), `line ${i} named "${l.name}" at ${l.unitPriceCents}: name and price of two versions`, final);
              expect(!archives.some((a) => a.product === l.productId && a.end < p.start), 'an order sent after its product was archived is not confirmed', final);
            }
          }
        }
        for (const c of cancels) {
          const row = byId.get(c.orderId);
          if (c.answer.status === 200 || c.answer.status === 503) expect(row?.status === 'cancelled', `cancel answered ${c.answer.status}, the order ended ${row?.status}`, c.answer);
        }

        // Stock and reservations behind the API, archived products included.
        const stock = await sql<{ id: string; stock: number; held: number }>(db.urls.product, 'SELECT id, stock, held FROM catalog.products WHERE id = ANY($1::uuid[])', [ids]);
        const held = await sql<{ order_id: string; product_id: string; quantity: number }>(
          db.urls.product,
          "SELECT r.order_id, i.product_id, i.quantity FROM catalog.reservations r JOIN catalog.reservation_items i USING (order_id) WHERE r.status = 'reserved' AND i.product_id = ANY($1::uuid[])",
          [ids],
        );
        const confirmed = rows.filter((r) => r.status === 'confirmed');
        for (const { id, stock: s, held: h } of stock) {
          const restocked = [...applied.entries()].filter(([g]) => g.startsWith(`${id} `)).reduce((n, [, d]) => n + d, 0);
          const units = confirmed.flatMap((o) => o.items).filter((l) => l.productId === id).reduce((n, l) => n + l.quantity, 0);
          expect(s >= 0, `stock of product ${ids.indexOf(id)} is negative: ${s}`);
          expect(s === INITIAL_STOCK + restocked - units, `stock of product ${ids.indexOf(id)} is ${s}, want ${INITIAL_STOCK} + ${restocked} - ${units} confirmed`);
          const heldUnits = held.filter((x) => x.product_id === id).reduce((n, x) => n + x.quantity, 0);
          expect(h === heldUnits && h === units, `product ${ids.indexOf(id)} holds ${h}, its reserved lines ${heldUnits}, confirmed units ${units}`);
        }
        const heldOrders = [...new Set(held.map((x) => x.order_id))].sort();
        expect(JSON.stringify(heldOrders) === JSON.stringify(confirmed.map((o) => o.id).sort()), `reservations held exactly for the confirmed orders: ${heldOrders.length} held, ${confirmed.length} confirmed`);
        assert.deepEqual(failures, [], JSON.stringify(batches));
      }),
      { numRuns: Number(process.env.ADMIN_INTERLEAVING_RUNS ?? 20), endOnFailure: true },
    );
    const text = (await http(order.base, 'GET', '/metrics')).text;
    assert.equal(metricValue(text, 'orders_repairs_total', ['kind="reservation_without_order"']), 0, 'the audit released a reservation');
    assert.equal(metricValue(text, 'orders_repairs_total', ['kind="order_without_reservation"']), 0, 'the audit cancelled a confirmed order');
    assert.ok(runs > 0);
    console.log(`# admin interleavings: ${runs} runs; ${JSON.stringify(seen)}`);
  });
});

/** A product proxy whose first reservation is made but its answer lost (the connection cut), `meanwhile` run before the cut. */
async function losingFirstReservation(productBase: string, meanwhile: () => Promise<unknown>): Promise<{ proxy: ProductProxy; lost: () => number }> {
  let lost = 0;
  const proxy = await productProxy(productBase, ({ method, path }) => {
    if (method !== 'POST' || path !== '/internal/reservations' || lost++ > 0) return { forward: true };
    return { forward: true, drop: meanwhile };
  });
  return { proxy, lost: () => lost };
}

/** POST /order under one Idempotency-Key, again after each 503's Retry-After (at most 20 times), until it is answered. */
async function placeUntilAnswered(orderBase: string, token: string, body: unknown): Promise<HttpResult<Answer>> {
  const key = randomUUID();
  let placed = await http<Answer>(orderBase, 'POST', '/order', { token, body, headers: { 'idempotency-key': key } });
  for (let i = 0; i < 20 && placed.status === 503; i++) {
    await sleep(Number(placed.headers.get('retry-after') ?? 1) * 1000);
    placed = await http<Answer>(orderBase, 'POST', '/order', { token, body, headers: { 'idempotency-key': key } });
  }
  return placed;
}

describe('an admin write between a reservation and the answer that confirms its order', { timeout: 60_000 }, () => {
  it('when the reservation\'s answer is lost and the product is renamed and repriced before the order is confirmed by a replay of it, then the line keeps the name of the version whose price it was reserved at', async () => {
    const productService = await startProductService(db.urls.product, user.base);
    const shopper = await createCustomer(user.base);
    const p = await createProduct(productService.base, admin, { name: 'Coffee 250 g', priceCents: 500, stock: 10 });
    // The first reservation commits at 500 as "Coffee 250 g"; before its answer arrives (lost: the connection cut), an
    // admin renames the product and reprices it in one PATCH. The order's next try replays the stored reservation.
    const { proxy, lost } = await losingFirstReservation(productService.base, () =>
      http(productService.base, 'PATCH', `/product/${p.id}`, { token: admin, body: { name: 'Coffee 1 kg', priceCents: 1800 } }));
    const order = await startOrderService(db.urls.order, user.base, proxy.base, { RECONCILER_ENABLED: 'false' });
    try {
      const placed = await placeUntilAnswered(order.base, shopper.token, { items: [{ productId: p.id, quantity: 1 }] });
      assert.equal(lost() >= 1, true, 'the first reservation lost its answer');
      assert.ok(placed.status === 200 || placed.status === 201, placed.text);
      const line = placed.body.items![0]!;
      assert.deepEqual({ name: line.name, unitPriceCents: line.unitPriceCents }, { name: 'Coffee 250 g', unitPriceCents: 500 }, placed.text);
    } finally {
      await stopAll(order, proxy, productService);
    }
  });

  it('when the product is archived between its reservation and the order\'s confirmation (the answer lost), then the order is confirmed (reserved before the archive), its cancel gives the units back to the archived product, and no new order is taken', async () => {
    const productService = await startProductService(db.urls.product, user.base);
    const shopper = await createCustomer(user.base);
    const p = await createProduct(productService.base, admin, { priceCents: 700, stock: 5 });
    const { proxy, lost } = await losingFirstReservation(productService.base, () => http(productService.base, 'DELETE', `/product/${p.id}`, { token: admin }));
    const order = await startOrderService(db.urls.order, user.base, proxy.base, { RECONCILER_INTERVAL_MS: '100' });
    try {
      const body = { items: [{ productId: p.id, quantity: 2 }] };
      const placed = await placeUntilAnswered(order.base, shopper.token, body);
      assert.equal(lost() >= 1, true, 'the first reservation lost its answer');
      assert.ok(placed.status === 200 || placed.status === 201, placed.text);
      assert.equal(placed.body.status, 'confirmed');
      assert.equal(placed.body.totalCents, 1400);
      const [held] = await sql<{ stock: number; held: number; archived: boolean }>(db.urls.product, 'SELECT stock, held, archived FROM catalog.products WHERE id = $1', [p.id]);
      assert.deepEqual({ ...held, held: Number(held!.held) }, { stock: 3, held: 2, archived: true });
      // After the archive answered, nothing new is reserved.
      const late = await http<Answer>(order.base, 'POST', '/order', { token: shopper.token, body, headers: { 'idempotency-key': randomUUID() } });
      assert.equal(late.status, 404, late.text);
      const cancelled = await http<Answer>(order.base, 'POST', `/order/${placed.body.id}/cancel`, { token: shopper.token });
      assert.equal(cancelled.status, 200, cancelled.text);
      const [after] = await sql<{ stock: number; held: number }>(db.urls.product, 'SELECT stock, held FROM catalog.products WHERE id = $1', [p.id]);
      assert.deepEqual({ stock: after!.stock, held: Number(after!.held) }, { stock: 5, held: 0 });
      assert.equal((await http(productService.base, 'POST', `/product/${p.id}/stock`, { token: admin, body: { delta: 1 } })).status, 404, 'an archived product takes no restock');
    } finally {
      await stopAll(order, proxy, productService);
    }
  });
});
