// Generated interleavings against two order replicas on one database, each with its reconciler and audit running
// (short deadlines and intervals, so they race the request path and each other), behind a proxy to the product
// service that delays some reservation and release calls past the order service's deadline (the call commits, its
// answer is lost, or it arrives late). Placements (keys replayed on the other replica), a cancel sent the moment
// its order is written (racing the confirm), admin stock decreases and restocks, price changes racing checkouts
// that expect the price shown, archives, and one customer's orders racing the hourly unit limit. After each
// scenario the books are read behind the API (fast-check, bounded runs).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { createCustomer, createProduct, http, metricValue, sql, stopAll, type HttpResult, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { startOrderService } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

interface Answer {
  id?: string;
  orderId?: string;
  status?: string | number;
  type?: string;
  orderStatus?: string;
  cancellation?: string;
  items?: { productId: string; quantity: number; unitPriceCents: number | null }[];
}

/** Delay of the proxied reservation or release calls for one order: none, before they reach the product service, of their answers, or refused (503) without reaching it. */
type Delay = 'none' | 'before' | 'after' | 'refused';
const CALL_TIMEOUT_MS = 300;
const LATE_MS = 900;
/** How long an order's calls keep the delay it was dealt: past one request's tries (3 x 300 ms and backoff), then on time. */
const DELAYED_FOR_MS = 600;
const HOURLY_LIMIT = 14;
const PRODUCTS = 3;
const INITIAL_PRICE = 100;

/**
 * A proxy to the product service. Each order's reservation (or release) calls are dealt the next delay of the queue
 * the first time its id is seen, and keep it for DELAYED_FOR_MS: so the request's own tries all come late and it
 * gives up (the order stays pending or cancelling) while the call may still commit, and whoever drives the order
 * next (a replay, the other replica, a reconciler) is answered on time.
 */
async function delayingProxy(target: string): Promise<{ base: string; deal(delays: Delay[]): void; close(): Promise<void> }> {
  const to = new URL(target);
  let queue: Delay[] = [];
  let next = 0;
  const dealt = new Map<string, { delay: Delay; at: number }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      let orderId: string | undefined;
      if (path.startsWith('/internal/reservations/') && req.method === 'DELETE') orderId = path.split('/')[3];
      else if (path === '/internal/reservations' && req.method === 'POST') orderId = (JSON.parse(Buffer.concat(chunks).toString()) as { orderId?: string }).orderId;
      let delay: Delay = 'none';
      if (orderId !== undefined && queue.length) {
        const key = `${req.method} ${orderId}`;
        const d = dealt.get(key) ?? { delay: queue[next++ % queue.length]!, at: performance.now() };
        dealt.set(key, d);
        if (performance.now() - d.at < DELAYED_FOR_MS) delay = d.delay;
      }
      const forward = () => {
        const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path, headers: req.headers }, (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            const answer = () => {
              if (res.destroyed) return;
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              res.end(Buffer.concat(body));
            };
            if (delay === 'after') setTimeout(answer, LATE_MS);
            else answer();
          });
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      };
      if (delay === 'refused') {
        res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
        res.end(JSON.stringify({ type: 'https://ecommerce.local/problems/service-unavailable', title: 'Service Unavailable', status: 503 }));
      } else if (delay === 'before') setTimeout(forward, LATE_MS);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    deal(delays: Delay[]) {
      queue = delays;
      next = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Line = { product: number; quantity: number; shown: boolean };
type Op =
  | { kind: 'place'; customer: number; lines: Line[]; via: number; key: 'fresh' | 'replay' }
  | { kind: 'place-then-cancel'; customer: number; lines: Line[]; via: number; cancelVia: number }
  | { kind: 'cancel'; order: number; via: number }
  | { kind: 'price'; product: number; priceCents: number }
  | { kind: 'adjust'; product: number; delta: number }
  | { kind: 'archive'; product: number };

const line = fc.record({ product: fc.integer({ min: 0, max: PRODUCTS - 1 }), quantity: fc.integer({ min: 1, max: 3 }), shown: fc.boolean() });
const lines = fc.array(line, { minLength: 1, maxLength: 3 });
const via = fc.integer({ min: 0, max: 1 });
const customer = fc.integer({ min: 0, max: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('place' as const), customer, lines, via, key: fc.constantFrom('fresh' as const, 'replay' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('place-then-cancel' as const), customer, lines, via, cancelVia: via }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat(), via }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('price' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }), priceCents: fc.integer({ min: 1, max: 3 }).map((n) => INITIAL_PRICE + n) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('adjust' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }), delta: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive' as const), product: fc.integer({ min: 0, max: PRODUCTS - 1 }) }) },
);
const scenario = fc.record({
  batches: fc.array(fc.array(op, { minLength: 2, maxLength: 7 }), { minLength: 1, maxLength: 3 }),
  delays: fc.array(fc.constantFrom<Delay>('none', 'none', 'none', 'before', 'after', 'refused'), { minLength: 1, maxLength: 8 }),
});

describe('generated interleavings: two order replicas, their reconcilers and audits, late product calls', () => {
  let product: Running;
  let proxy: Awaited<ReturnType<typeof delayingProxy>>;
  const replicas: Running[] = [];
  let orders: pg.Pool;
  before(async () => {
    orders = new pg.Pool({ connectionString: db.urls.order, max: 4 });
    product = await startProductService(db.urls.product, user.base);
    proxy = await delayingProxy(product.base);
    const env = {
      RESERVATION_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      PENDING_DEADLINE_MS: '1500',
      RECONCILER_INTERVAL_MS: '100',
      AUDIT_INTERVAL_MS: '200',
      MAX_UNITS_PER_CUSTOMER_PER_HOUR: String(HOURLY_LIMIT),
      DB_POOL_MAX: '20',
    };
    for (let i = 0; i < 2; i++) replicas.push(await startOrderService(db.urls.order, user.base, proxy.base, env));
  });
  after(async () => {
    await stopAll(...replicas);
    await proxy?.close();
    await stopAll(product);
    await orders?.end();
  });

  it('property: no oversell, nothing stranded, one order per key replayed alike, charges at prices the product had, the hourly limit held, and the audit finds nothing to repair', async () => {
    let runs = 0;
    let placements = 0;
    const seen: Record<string, number> = {};
    const tally = (what: string) => (seen[what] = (seen[what] ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(scenario, async ({ batches, delays }) => {
        runs++;
        proxy.deal(delays);
        const customers = await Promise.all([createCustomer(user.base), createCustomer(user.base)]);
        const products = await Promise.all(Array.from({ length: PRODUCTS }, () => createProduct(product.base, admin, { stock: 6, priceCents: INITIAL_PRICE })));
        const ids = products.map((p) => p.id);
        const adjusted = new Map(ids.map((id) => [id, 0]));
        // Admin writes with the moments they were sent and answered (performance.now()), for the real-time checks.
        const prices: { product: string; cents: number; start: number; end: number }[] = ids.map((product) => ({ product, cents: INITIAL_PRICE, start: -Infinity, end: -Infinity }));
        const archives: { product: string; end: number }[] = [];
        const placed: { customer: number; key: string; body: { items: { productId: string; quantity: number; expectedUnitPriceCents?: number }[] }; start: number; answers: HttpResult<Answer>[] }[] = [];
        const cancels: { orderId: string; answer: HttpResult<Answer> }[] = [];
        const known: { id: string; customer: number }[] = [];
        const failures: string[] = [];
        const expect = (ok: boolean, what: string, res?: HttpResult<unknown>) => {
          if (!ok) failures.push(`${what}${res ? `: ${res.status} ${res.text.slice(0, 300)}` : ''}`);
        };
        const base = (i: number) => replicas[i]!.base;

        const itemsOf = async (ls: Line[]) =>
          Promise.all(
            ls.map(async (l) => {
              const productId = ids[l.product]!;
              if (!l.shown) return { productId, quantity: l.quantity };
              const now = await http<{ priceCents?: number }>(product.base, 'GET', `/product/${productId}`);
              return now.body.priceCents === undefined ? { productId, quantity: l.quantity } : { productId, quantity: l.quantity, expectedUnitPriceCents: now.body.priceCents };
            }),
          );
        const send = async (entry: (typeof placed)[number], replica: number) => {
          const res = await http<Answer>(base(replica), 'POST', '/order', { token: customers[entry.customer]!.token, body: entry.body, headers: { 'idempotency-key': entry.key } });
          placements++;
          tally(`place ${res.status}`);
          entry.answers.push(res);
          const id = res.body?.id ?? res.body?.orderId;
          if (id && !known.some((k) => k.id === id)) known.push({ id, customer: entry.customer });
          expect(res.status < 500 || (res.status === 503 && res.body.orderStatus === 'pending' && id !== undefined), 'place: no 5xx but a 503 naming its pending order', res);
          if (res.status === 503) expect(Number(res.headers.get('retry-after')) >= 1, 'a 503 says when to retry', res);
          return res;
        };
        const cancel = async (orderId: string, c: number, replica: number) => {
          const res = await http<Answer>(base(replica), 'POST', `/order/${orderId}/cancel`, { token: customers[c]!.token });
          cancels.push({ orderId, answer: res });
          tally(`cancel ${res.status}`);
          expect(
            [200, 409].includes(res.status) || (res.status === 503 && res.body.orderStatus === 'confirmed' && res.body.cancellation === 'pending'),
            'cancel: 200, 409 or a 503 naming the cancel recorded',
            res,
          );
          if (res.status === 200) expect(res.body.status === 'cancelled', 'a 200 cancel answers cancelled', res);
          if (res.status === 409) expect(res.body.type === 'https://ecommerce.local/problems/not-cancellable', 'a 409 cancel is not-cancellable', res);
          return res;
        };

        const run = async (o: Op): Promise<void> => {
          if (o.kind === 'place') {
            const earlier = placed.filter((p) => p.customer === o.customer).at(-1);
            if (o.key === 'replay' && earlier) {
              await send(earlier, o.via);
              return;
            }
            const entry = { customer: o.customer, key: randomUUID(), body: { items: await itemsOf(o.lines) }, start: performance.now(), answers: [] };
            placed.push(entry);
            await send(entry, o.via);
            return;
          }
          if (o.kind === 'place-then-cancel') {
            const entry = { customer: o.customer, key: randomUUID(), body: { items: await itemsOf(o.lines) }, start: performance.now(), answers: [] };
            placed.push(entry);
            const placing = send(entry, o.via);
            // The cancel goes out the moment the order is written, and again while it is pending (a 409), racing its confirmation.
            let done = false;
            void placing.finally(() => (done = true));
            for (let tries = 0; tries < 200; tries++) {
              const [row] = (await orders.query<{ id: string; status: string }>('SELECT id, status FROM orders.orders WHERE user_id = $1 AND idempotency_key = $2', [customers[o.customer]!.id, entry.key])).rows;
              if (row) {
                const res = await cancel(row.id, o.customer, o.cancelVia);
                if (res.status !== 409 || row.status !== 'pending' || done) break;
              } else if (done) break;
              await sleep(10);
            }
            await placing;
            return;
          }
          if (o.kind === 'cancel') {
            const target = known[o.order % Math.max(1, known.length)];
            if (target) await cancel(target.id, target.customer, o.via);
            return;
          }
          if (o.kind === 'price') {
            const start = performance.now();
            const res = await http(product.base, 'PATCH', `/product/${ids[o.product]}`, { token: admin, body: { priceCents: o.priceCents } });
            expect([200, 404].includes(res.status), 'price change', res);
            if (res.status === 200) prices.push({ product: ids[o.product]!, cents: o.priceCents, start, end: performance.now() });
            return;
          }
          if (o.kind === 'adjust') {
            const res = await http(product.base, 'POST', `/product/${ids[o.product]}/stock`, { token: admin, body: { delta: o.delta } });
            expect([200, 404, 409].includes(res.status), 'stock change', res);
            if (res.status === 200) adjusted.set(ids[o.product]!, adjusted.get(ids[o.product]!)! + o.delta);
            return;
          }
          const res = await http(product.base, 'DELETE', `/product/${ids[o.product]}`, { token: admin });
          expect([204, 404].includes(res.status), 'archive', res);
          if (res.status === 204) archives.push({ product: ids[o.product]!, end: performance.now() });
        };
        for (const batch of batches) await Promise.all(batch.map(run));

        // Nothing is left in flight: the replicas' reconcilers settle what the requests left pending or cancelling.
        const orderIds = () => known.map((k) => k.id);
        const t0 = Date.now();
        for (;;) {
          const open = (await orders.query<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [orderIds()])).rows;
          if (open[0]!.n === 0) break;
          if (Date.now() - t0 > 15_000) {
            failures.push(`${open[0]!.n} orders still pending or cancelling 15 s after the scenario`);
            break;
          }
          await sleep(100);
        }
        const settledAt = performance.now();

        // Keys: one order each; every answer but a 429 names it; a replay now answers its final state.
        const rows = await sql<{ id: string; user_id: string; idempotency_key: string; status: string; items: { productId: string; quantity: number; unitPriceCents: number | null }[]; rejection: { slug?: string } | null }>(
          db.urls.order,
          'SELECT id, user_id, idempotency_key, status, items, rejection FROM orders.orders WHERE user_id = ANY($1::uuid[])',
          [customers.map((c) => c.id)],
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const p of placed) {
          const mine = rows.filter((r) => r.user_id === customers[p.customer]!.id && r.idempotency_key === p.key);
          const limited = p.answers.filter((a) => a.status === 429);
          for (const a of limited) expect(a.body.type === 'https://ecommerce.local/problems/order-limit' && a.headers.get('retry-after') !== null, '429 order-limit with Retry-After', a);
          if (mine.length === 0) {
            expect(p.answers.every((a) => a.status === 429), 'a key without an order was only ever refused by the hourly limit', p.answers[0]);
            continue;
          }
          expect(mine.length === 1, `one order per key, found ${mine.length}`);
          const row = mine[0]!;
          for (const a of p.answers) {
            if (a.status === 429) continue;
            expect((a.body.id ?? a.body.orderId) === row.id, 'every answer under a key names its one order', a);
            if (a.status === 200 || a.status === 201) expect(['confirmed', 'cancelled'].includes(String(a.body.status)), 'a placement answers its order once confirmed (a replay: as it is now; a cancel being finished shows confirmed)', a);
            if (a.status === 200 || a.status === 201) expect(['confirmed', 'cancelled'].includes(row.status), `answered ${String(a.body.status)} but the order ended ${row.status}`, a);
            if (a.status === 409 || a.status === 404) expect(['rejected', 'failed'].includes(row.status), `answered ${a.status} but the order ended ${row.status}`, a);
          }
          const again = await http<Answer>(base(runs % 2), 'POST', '/order', { token: customers[p.customer]!.token, body: p.body, headers: { 'idempotency-key': p.key } });
          expect((again.body.id ?? again.body.orderId) === row.id, 'a replay after settling names the same order', again);
          if (row.status === 'confirmed' || row.status === 'cancelled') expect(again.status === 200 && again.body.status === row.status, `a replay of a ${row.status} order answers it`, again);
          else expect(again.status === 409 || again.status === 404, `a replay of a ${row.status} order answers its problem`, again);
          const firstFinal = p.answers.find((a) => a.status !== 503 && a.status !== 429);
          if (firstFinal && firstFinal.status >= 400) expect(again.status === firstFinal.status && again.body.type === firstFinal.body.type, 'a refused order replays its first problem', again);
        }
        for (const c of cancels) {
          const row = byId.get(c.orderId);
          if (c.answer.status === 200 || c.answer.status === 503) expect(row?.status === 'cancelled', `cancel answered ${c.answer.status} but the order ended ${row?.status}`, c.answer);
        }
        for (const r of rows) expect(!['pending', 'cancelling'].includes(r.status), `order ${r.id} left ${r.status}`);
        for (const r of rows) tally(`order ${r.status}`);
        // The API says what the database holds: each order's status to its owner, each product's stock.
        for (const k of known) {
          const res = await http<Answer>(base(k.id.charCodeAt(k.id.length - 1) % 2), 'GET', `/order/${k.id}`, { token: customers[k.customer]!.token });
          expect(res.status === 200 && res.body.status === byId.get(k.id)?.status, `GET /order answers ${String(res.body.status)}, the database holds ${byId.get(k.id)?.status}`, res);
        }
        expect(!rows.some((r) => (r.rejection as { reason?: string } | null)?.reason === 'reservation-lost'), 'no confirmed order was found without its reservation by the audit');

        // Stock and reservations behind the API.
        const stock = await sql<{ id: string; stock: number }>(db.urls.product, 'SELECT id, stock FROM catalog.products WHERE id = ANY($1::uuid[])', [ids]);
        const confirmed = rows.filter((r) => r.status === 'confirmed');
        for (const { id, stock: s } of stock) {
          const shown = await http<{ stock?: number }>(product.base, 'GET', `/product/${id}`);
          expect(shown.status === 404 || shown.body.stock === s, `GET /product answers stock ${shown.body.stock}, the database holds ${s}`, shown);
          const units = confirmed.flatMap((o) => o.items).filter((l) => l.productId === id).reduce((n, l) => n + l.quantity, 0);
          expect(s === 6 + adjusted.get(id)! - units, `stock of product ${ids.indexOf(id)} is ${s}, want 6 + ${adjusted.get(id)} - ${units} confirmed`);
        }
        const held = await sql<{ order_id: string; product_id: string; quantity: number; unit_price_cents: string }>(
          db.urls.product,
          "SELECT r.order_id, i.product_id, i.quantity, i.unit_price_cents FROM catalog.reservations r JOIN catalog.reservation_items i USING (order_id) WHERE r.status = 'reserved' AND i.product_id = ANY($1::uuid[])",
          [ids],
        );
        const heldOrders = [...new Set(held.map((h) => h.order_id))].sort();
        expect(JSON.stringify(heldOrders) === JSON.stringify(confirmed.map((o) => o.id).sort()), `reservations held exactly for the confirmed orders: held ${heldOrders.length}, confirmed ${confirmed.length}`);
        for (const o of confirmed) {
          const sums = new Map<string, number>();
          for (const l of o.items) sums.set(l.productId, (sums.get(l.productId) ?? 0) + l.quantity);
          for (const [pid, q] of sums) {
            const h = held.find((x) => x.order_id === o.id && x.product_id === pid);
            expect(h?.quantity === q, `order ${o.id} holds ${h?.quantity} of a product it confirmed ${q} of`);
            expect(o.items.filter((l) => l.productId === pid).every((l) => Number(h?.unit_price_cents) === l.unitPriceCents), 'a line is charged what its reservation holds');
          }
        }

        // Real time: a line is charged a price its product had while the order was being placed (a price change
        // answered before the order was first sent is seen), at the price shown when one was; an archive answered
        // before is seen too.
        for (const p of placed) {
          const row = rows.find((r) => r.user_id === customers[p.customer]!.id && r.idempotency_key === p.key);
          if (!row || !['confirmed', 'cancelled'].includes(row.status) || row.items.some((l) => l.unitPriceCents === null)) continue;
          for (const [i, l] of row.items.entries()) {
            const expected = p.body.items[i]!.expectedUnitPriceCents;
            if (expected !== undefined) expect(l.unitPriceCents === expected, `line charged ${l.unitPriceCents}, shown ${expected}`);
            const changes = prices.filter((c) => c.product === l.productId);
            // A change answered before the placement began rules out every change that was answered before it began.
            const possible = changes.filter((c) => !changes.some((d) => d.end < p.start && c.end < d.start) && c.start <= settledAt);
            expect(possible.some((c) => c.cents === l.unitPriceCents), `line charged ${l.unitPriceCents}, a price its product never had while the order was placed (${possible.map((c) => c.cents).join(', ')})`);
            expect(!archives.some((a) => a.product === l.productId && a.end < p.start), 'an order sent after its product was archived is not confirmed');
          }
        }

        // The hourly limit: every written order counted once, never past the limit, a 429 wrote nothing.
        const usage = await sql<{ user_id: string; units: number }>(db.urls.order, 'SELECT user_id, units FROM orders.customer_usage WHERE user_id = ANY($1::uuid[])', [customers.map((c) => c.id)]);
        for (const c of customers) {
          const counted = usage.filter((u) => u.user_id === c.id);
          const written = rows.filter((r) => r.user_id === c.id).flatMap((r) => r.items).reduce((n, l) => n + l.quantity, 0);
          expect(counted.reduce((n, u) => n + u.units, 0) === written, `usage counted ${counted.map((u) => u.units).join('+')} units, orders written hold ${written}`);
          expect(counted.every((u) => u.units <= HOURLY_LIMIT), `usage ${counted.map((u) => u.units).join('+')} past the limit ${HOURLY_LIMIT}`);
        }
        assert.deepEqual(failures, [], JSON.stringify({ batches, delays }));
      }),
      { numRuns: Number(process.env.INTERLEAVING_RUNS ?? 8), endOnFailure: true },
    );
    // The audit repaired nothing in either replica: with the rules above there is no drift to find.
    for (const r of replicas) {
      const text = (await http(r.base, 'GET', '/metrics')).text;
      assert.equal(metricValue(text, 'orders_repairs_total', ['kind="reservation_without_order"']), 0, 'audit released a reservation');
      assert.equal(metricValue(text, 'orders_repairs_total', ['kind="order_without_reservation"']), 0, 'audit cancelled a confirmed order');
    }
    console.log(`# generated interleavings: ${runs} runs, ${placements} placements; ${JSON.stringify(seen)}`);
  });
});
