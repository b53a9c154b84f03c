// Poison orders: a pending order the product service keeps answering with something it should not (a 4xx that is
// not a refusal, for that order's payload alone, or a reservation whose answer cannot be read) must not hold up the
// reconciler. Behind a loopback proxy to a real product service: while the reservation calls are refused (503),
// orders are placed and stay pending, the poison ones first (the oldest: claimed first on every pass). Then the
// calls go through: every other order is settled at once, the audit keeps running, and the poison orders end
// `failed` once their deadline has passed, with nothing held for them; stock and reservations agree. Two order
// replicas on one database, both reconciling.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createCustomer, createProduct, http, metricValue, sql, stockOf, stopAll, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import type { ProductClient } from '../src/clients/product-client.js';
import { startOrderService } from './harness.js';
import { productProxy, reservationOrderId, type ProductProxy } from './product-proxy.js';
import { admin, db, serviceToken, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const DEADLINE_MS = 12_000;

/**
 * A proxy to the product service. `down`: every reservation call is answered 503 without reaching it. Reservation
 * calls naming a `refused` product are answered 422 (never reaching it); those naming a `garbled` product reach it
 * (stock is taken) and their answer comes back without its lines; those naming a `failing` product are answered 500
 * (a bug of the product service for that payload: to the order service, no different from an outage). Releases: all 503 while `releasesDown`, 422 for
 * the order ids in `refusedReleases`. Reads of one reservation (the audit's): 500 for the order ids in `failingReads`. Reservation
 * calls naming a product in `lookalike` get that answer: a problem shaped like a refusal but not one. Reads and releases of
 * the order ids in `misrouted` are answered that status (a 404, a 200) with those members, never reaching it (a route
 * missing, a proxy's answer, another order's). While `hideHeld`, the audit's list of held reservations comes back
 * empty. Everything else passes through.
 */
async function poisoningProxy(target: string): Promise<
  ProductProxy & {
    down: boolean;
    releasesDown: boolean;
    refused: Set<string>;
    garbled: Set<string>;
    failing: Set<string>;
    refusedReleases: Set<string>;
    failingReads: Set<string>;
    lookalike: Map<string, { status: number; slug: string; members?: Record<string, unknown> }>;
    misrouted: Map<string, { status: number; members: Record<string, unknown> }>;
    hideHeld: boolean;
  }
> {
  const state = {
    down: true,
    releasesDown: false,
    refused: new Set<string>(),
    garbled: new Set<string>(),
    failing: new Set<string>(),
    refusedReleases: new Set<string>(),
    failingReads: new Set<string>(),
    lookalike: new Map<string, { status: number; slug: string; members?: Record<string, unknown> }>(),
    misrouted: new Map<string, { status: number; members: Record<string, unknown> }>(),
    hideHeld: false,
  };
  const proxy = await productProxy(target, ({ method, path, body }) => {
    const reserving = path === '/internal/reservations' && method === 'POST';
    const products = reserving ? ((JSON.parse(body.toString()) as { items?: { productId: string }[] }).items ?? []).map((i) => i.productId) : [];
    if (reserving && state.down) return { status: 503, slug: 'service-unavailable' };
    if (method === 'DELETE' && state.releasesDown) return { status: 503, slug: 'service-unavailable' };
    if (method === 'DELETE' && state.refusedReleases.has(reservationOrderId(path))) return { status: 422, slug: 'unprocessable-entity' };
    if (method === 'GET' && state.failingReads.has(reservationOrderId(path))) return { status: 500, slug: 'internal-server-error' };
    if (method === 'GET' && path.startsWith('/internal/reservations?') && state.hideHeld) return { forward: true, garble: true };
    const misrouted = method !== 'POST' ? state.misrouted.get(reservationOrderId(path)) : undefined;
    if (misrouted) return { status: misrouted.status, slug: misrouted.status === 404 ? 'not-found' : 'ok', members: misrouted.members };
    if (products.some((p) => state.refused.has(p))) return { status: 422, slug: 'unprocessable-entity' };
    if (products.some((p) => state.failing.has(p))) return { status: 500, slug: 'internal-server-error' };
    const lookalike = products.map((p) => state.lookalike.get(p)).find(Boolean);
    if (lookalike) return lookalike;
    return { forward: true, garble: products.some((p) => state.garbled.has(p)) };
  });
  return Object.assign(state, proxy);
}

describe('poison orders: the product service answers one order what it should not', { timeout: 120_000 }, () => {
  let product: Running;
  let proxy: Awaited<ReturnType<typeof poisoningProxy>>;
  let order: Running;
  // A second replica on the same database, its reconciler and audit racing the first one's.
  let replica: Running;
  before(async () => {
    product = await startProductService(db.urls.product, user.base);
    proxy = await poisoningProxy(product.base);
    const env = { PENDING_DEADLINE_MS: String(DEADLINE_MS), RESERVATION_TIMEOUT_MS: '500', RECONCILER_INTERVAL_MS: '100', AUDIT_INTERVAL_MS: '300', STATS_INTERVAL_MS: '200' };
    order = await startOrderService(db.urls.order, user.base, proxy.base, env);
    replica = await startOrderService(db.urls.order, user.base, proxy.base, env);
  });
  after(() => stopAll(replica, order, proxy, product));

  let placed = 0;
  const place = async (token: string, productId: string, quantity = 1) => {
    const res = await http<{ orderId?: string }>(placed++ % 2 ? replica.base : order.base, 'POST', '/order', { token, body: { items: [{ productId, quantity }] }, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(res.status, 503, `placed while the reservations are refused: ${res.text}`);
    return res.body.orderId!;
  };
  /** `count` orders of 2 units each, placed and confirmed while the product service answers them right; their ids, oldest first. */
  const placeConfirmed = async (token: string, productId: string, count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await http<{ id: string; status: string }>(order.base, 'POST', '/order', { token, body: { items: [{ productId, quantity: 2 }] }, headers: { 'idempotency-key': randomUUID() } });
      assert.equal(res.body.status, 'confirmed', res.text);
      ids.push(res.body.id);
    }
    return ids;
  };
  const statuses = async (ids: string[]) =>
    new Map((await sql<{ id: string; status: string }>(db.urls.order, 'SELECT id, status FROM orders.orders WHERE id = ANY($1::uuid[])', [ids])).map((r) => [r.id, r.status]));
  const held = async (ids: string[]) =>
    new Set((await sql<{ order_id: string }>(db.urls.product, "SELECT DISTINCT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [ids])).map((r) => r.order_id));

  it('when one pending order is answered 422 on every try, then the audit still runs and repairs drift while that order waits', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const bad = await createProduct(product.base, admin, { stock: 10 });
    const other = await createProduct(product.base, admin, { stock: 10 });
    proxy.refused.add(bad.id);
    proxy.down = true;
    const poison = await place(buyer.token, bad.id);
    // Drift for the audit: stock held for an order the order service never wrote.
    const orphan = randomUUID();
    const svc = await serviceToken();
    assert.equal((await http(product.base, 'POST', '/internal/reservations', { token: svc, body: { orderId: orphan, items: [{ productId: other.id, quantity: 3 }] } })).status, 201);
    proxy.down = false;
    await waitFor('the audit to release the orphan reservation', async () => (await held([orphan])).size === 0, 6_000);
    assert.equal(await stockOf(product.base, other.id), 10);
    assert.equal((await statuses([poison])).get(poison), 'pending', 'released before the poison order reached its deadline');
  });

  it('when the oldest pending orders are refused (422) or answered unreadably on every try, then every order behind them is settled at once and they end failed at their deadline with nothing held', async () => {
    const buyers = await Promise.all(Array.from({ length: 3 }, () => createCustomer(user.base, 'poison')));
    const refused = await createProduct(product.base, admin, { stock: 20 });
    const garbled = await createProduct(product.base, admin, { stock: 20 });
    const good = await createProduct(product.base, admin, { stock: 100 });
    proxy.refused.add(refused.id);
    proxy.garbled.add(garbled.id);
    proxy.down = true;
    // Oldest first: more poison orders than the reconciler drives at once.
    const poison: string[] = [];
    for (let i = 0; i < 6; i++) poison.push(await place(buyers[0]!.token, refused.id), await place(buyers[1]!.token, garbled.id, 2));
    const behind = await Promise.all(Array.from({ length: 30 }, (_, i) => place(buyers[i % 3]!.token, good.id)));
    proxy.down = false;

    // Well inside the reservation window (2/3 of the deadline): all confirmed, not expired.
    await waitFor('the orders behind the poison ones to be confirmed', async () => [...(await statuses(behind)).values()].every((s) => s === 'confirmed'), 5_000);
    assert.equal(await stockOf(product.base, good.id), 70);

    await waitFor('the poison orders to be final', async () => [...(await statuses(poison)).values()].every((s) => s !== 'pending'), DEADLINE_MS + 20_000);
    const final = await statuses(poison);
    assert.deepEqual([...new Set(final.values())], ['failed']);
    // The garbled ones were reserved on the product side: given back before the order was recorded failed.
    assert.equal((await held(poison)).size, 0);
    assert.equal(await stockOf(product.base, refused.id), 20);
    assert.equal(await stockOf(product.base, garbled.id), 20);
    assert.equal((await http<{ status: string }>(order.base, 'GET', `/order/${poison[1]}`, { token: buyers[1]!.token })).body.status, 'failed');

    // Both sides agree for every order of this test: a reservation held exactly for the confirmed ones.
    const all = [...poison, ...behind];
    const now = await statuses(all);
    const holding = await held(all);
    for (const id of all) assert.equal(holding.has(id), now.get(id) === 'confirmed', `order ${id} is ${now.get(id)}, its reservation ${holding.has(id) ? 'held' : 'not held'}`);

    const metrics = await Promise.all([order, replica].map(async (r) => (await http(r.base, 'GET', '/metrics')).text));
    const counted = (reason: string) => metrics.reduce((n, text) => n + metricValue(text, 'orders_settle_errors_total', [`reason="${reason}"`]), 0);
    assert.ok(counted('unexpected_answer') >= 6, 'the 422s are counted');
    assert.ok(counted('error') >= 6, 'the unreadable answers are counted');
  });

  it('when the oldest cancels cut short are answered 422 on every release, then every cancel behind them is finished at once, and they are once the answers are right', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 50 });
    proxy.down = false;
    const ids = await placeConfirmed(buyer.token, p.id, 12);
    // Cut short (cancelling), the poison ones first: the oldest, claimed first.
    const poison = ids.slice(0, 9);
    const behind = ids.slice(9);
    for (const id of poison) proxy.refusedReleases.add(id);
    proxy.releasesDown = true;
    for (const id of ids) assert.equal((await http(order.base, 'POST', `/order/${id}/cancel`, { token: buyer.token })).status, 503);
    // No cancel request drives any of them any more (each gave its lease back when it answered): a pass claims all 12.
    await sleep(1_000);
    proxy.releasesDown = false;

    await waitFor('the cancels behind the poison ones to be finished', async () => [...(await statuses(behind)).values()].every((s) => s === 'cancelled'), 5_000);
    // Their stock is back; the poison ones still hold theirs (cancelling: not given back yet).
    assert.deepEqual([...new Set((await statuses(poison)).values())], ['cancelling']);
    assert.equal((await held(poison)).size, poison.length);
    assert.equal(await stockOf(product.base, p.id), 50 - 2 * poison.length);
    // Seen: stuck cancels are counted (for OrdersStuckCancelling), on every replica.
    const gauge = async (r: Running, name: string) => metricValue((await http(r.base, 'GET', '/metrics')).text, name);
    for (const r of [order, replica]) {
      await waitFor('the cancelling gauges', async () => (await gauge(r, 'orders_cancelling')) === poison.length && (await gauge(r, 'orders_cancelling_oldest_age_seconds')) >= 1, 3_000);
    }

    proxy.refusedReleases.clear();
    await waitFor('the poison cancels to be finished', async () => [...(await statuses(poison)).values()].every((s) => s === 'cancelled'), 20_000);
    await waitFor('the cancelling gauges back to 0', async () => (await gauge(order, 'orders_cancelling')) === 0 && (await gauge(order, 'orders_cancelling_oldest_age_seconds')) === 0, 3_000);
    assert.equal((await held(ids)).size, 0);
    assert.equal(await stockOf(product.base, p.id), 50);
  });

  it('when the oldest pending orders are answered 500 on every try (as in an outage, but for them alone), then every order behind them is still settled at once', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const failing = await createProduct(product.base, admin, { stock: 20 });
    const good = await createProduct(product.base, admin, { stock: 50 });
    proxy.failing.add(failing.id);
    proxy.down = true;
    const poison: string[] = [];
    for (let i = 0; i < 9; i++) poison.push(await place(buyer.token, failing.id));
    const behind = await Promise.all(Array.from({ length: 20 }, () => place(buyer.token, good.id)));
    proxy.down = false;
    await waitFor('the orders behind the failing ones to be confirmed', async () => [...(await statuses(behind)).values()].every((s) => s === 'confirmed'), 5_000);
    assert.equal(await stockOf(product.base, good.id), 30);
    // Never answered: still pending (for OrdersStuckPending), nothing taken for them.
    assert.deepEqual([...new Set((await statuses(poison)).values())], ['pending']);
    assert.equal(await stockOf(product.base, failing.id), 20);
    proxy.failing.clear();
  });
  it('when a reservation is answered 404, 409 or 422 without naming this order and a reason, or 200/201 without naming it (a route missing, a proxy, another order\'s refusal or reservation), then the order is not rejected: it stays pending and is confirmed once the answers are right', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    proxy.down = false;
    const lookalikes = [
      { status: 404, slug: 'not-found' },
      { status: 409, slug: 'insufficient-stock', members: { items: [] } },
      { status: 404, slug: 'not-found', members: { reason: 'unknown-product', orderId: randomUUID() } },
      { status: 422, slug: 'mixed-currency', members: { orderId: '' } },
      { status: 409, slug: 'insufficient-stock', members: { reason: '', orderId: 'x' } },
      // A success that is not this order's reservation (a proxy's, another order's): no word about this one either.
      { status: 200, slug: 'ok', members: { status: 'released', items: [] } },
      { status: 201, slug: 'ok', members: { orderId: randomUUID(), status: 'released', items: [] } },
    ];
    for (const answer of lookalikes) {
      const p = await createProduct(product.base, admin, { stock: 10 });
      proxy.lookalike.set(p.id, answer);
      const key = randomUUID();
      const send = () => http<{ orderId?: string; orderStatus?: string; id?: string; status?: string }>(order.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: 2 }] }, headers: { 'idempotency-key': key } });
      const first = await send();
      assert.equal(first.status, 503, `${JSON.stringify(answer)}: pending, not decided: ${first.text}`);
      assert.equal(first.body.orderStatus, 'pending');
      const id = first.body.orderId!;
      assert.equal((await statuses([id])).get(id), 'pending', JSON.stringify(answer));
      proxy.lookalike.delete(p.id);
      await waitFor(`the order of ${JSON.stringify(answer)} settled`, async () => (await statuses([id])).get(id) !== 'pending', 15_000);
      const settled = await send();
      assert.equal(settled.status, 200, settled.text);
      assert.equal(settled.body.status, 'confirmed', JSON.stringify(answer));
      assert.equal(await stockOf(product.base, p.id), 8);
    }
  });

  it('when a release is answered 404 or 200 without naming this order (a route missing, a proxy\'s answer, another order\'s), then the cancel is not finished with its stock held: it stays cancelling, and is cancelled with the stock back once the answers are right', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 30 });
    proxy.down = false;
    // What a 404 that does not name this order may carry: nothing, a missing route's words, another order's id, an id not a string, this id in another member.
    const misroutes = (id: string): { status: number; members: Record<string, unknown> }[] => [
      { status: 404, members: {} },
      { status: 404, members: { detail: `No route for DELETE /internal/reservations/${id}`, instance: `/internal/reservations/${id}` } },
      { status: 404, members: { orderId: randomUUID(), detail: 'Reservation not found' } },
      { status: 404, members: { orderId: 7 } },
      { status: 404, members: { reservation: id, detail: `Reservation ${id} not found` } },
      { status: 200, members: {} },
      { status: 200, members: { orderId: randomUUID(), status: 'released', items: [], released: true } },
    ];
    const ids = await placeConfirmed(buyer.token, p.id, misroutes('').length);
    ids.forEach((id, i) => proxy.misrouted.set(id, misroutes(id)[i]!));
    for (const id of ids) {
      const res = await http<{ status?: string; orderStatus?: string; cancellation?: string }>(order.base, 'POST', `/order/${id}/cancel`, { token: buyer.token });
      assert.equal(res.status, 503, `${JSON.stringify(proxy.misrouted.get(id))}: ${res.text}`);
      assert.deepEqual([res.body.orderStatus, res.body.cancellation], ['confirmed', 'pending']);
    }
    // Neither the reconciler (both replicas) nor the audit ends them meanwhile: the books agree while the 404s last.
    await sleep(1_500);
    assert.deepEqual([...new Set((await statuses(ids)).values())], ['cancelling']);
    assert.equal((await held(ids)).size, ids.length);
    assert.equal(await stockOf(product.base, p.id), 30 - 2 * ids.length);

    proxy.misrouted.clear();
    await waitFor('the cancels to be finished', async () => [...(await statuses(ids)).values()].every((s) => s === 'cancelled'), 15_000);
    assert.equal((await held(ids)).size, 0);
    assert.equal(await stockOf(product.base, p.id), 30);
  });

  it('when the audit sees no reservation held and each confirmed order\'s reservation read is answered a 404 that does not name it, then no confirmed order is cancelled: their stock stays held for them', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 20 });
    proxy.down = false;
    const ids = await placeConfirmed(buyer.token, p.id, 3);
    for (const id of ids) proxy.misrouted.set(id, { status: 404, members: {} });
    proxy.hideHeld = true;
    try {
      // Several audits (every 300 ms, in either replica) walk them as confirmed without a reservation.
      await sleep(2_000);
      assert.deepEqual([...new Set((await statuses(ids)).values())], ['confirmed']);
    } finally {
      proxy.hideHeld = false;
      proxy.misrouted.clear();
    }
    assert.equal((await held(ids)).size, 3);
    assert.equal(await stockOf(product.base, p.id), 14);
  });

  it('when a read or a release of a held reservation is answered any 404 or 200 that does not name its order (generated), then the client takes it as no word about it (neither absent nor released), and takes the product service\'s own 404 as absent (its previous release\'s too)', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 5 });
    proxy.down = false;
    const [id] = (await placeConfirmed(buyer.token, p.id, 1)) as [string];
    const client = (order.app as unknown as { products: ProductClient }).products;
    const notThisOrder = fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.constant(id.toUpperCase().slice(1)), fc.constant(` ${id}`));
    const misrouted = fc.record({
      status: fc.constantFrom(404, 200),
      members: fc.record(
        {
          orderId: notThisOrder,
          reason: fc.constantFrom('unknown-product', 'expired', ''),
          status: fc.constantFrom('released', 'refused', 'reserved'),
          released: fc.boolean(),
          items: fc.constant([]),
          detail: fc.string({ maxLength: 40 }),
          instance: fc.constant(`/internal/reservations/${id}`),
        },
        { requiredKeys: [] },
      ),
    });
    await fc.assert(
      fc.asyncProperty(misrouted, async (answer) => {
        proxy.misrouted.set(id, answer);
        const released = await client.release(id);
        assert.ok(released === 'unavailable' || released === 'unexpected', `${JSON.stringify(answer)}: release ${released}`);
        const state = await client.get(id);
        assert.ok(state.kind === 'unavailable' || state.kind === 'unexpected', `${JSON.stringify(answer)}: ${state.kind}`);
      }),
      { numRuns: 40 },
    );
    proxy.misrouted.clear();
    assert.equal((await held([id])).size, 1, 'never reached: still held');
    assert.equal(await stockOf(product.base, p.id), 3);
    // The product service's own answers: reserved while held; its 404 for an order id with nothing reserved names it.
    assert.equal((await client.get(id)).kind, 'reserved');
    const unknown = randomUUID();
    assert.equal((await client.get(unknown)).kind, 'absent');
    assert.equal(await client.release(unknown), 'absent');
    // The product service before its 404 named the order: its exact problem for this path still reads as absent (a
    // rolling deploy), and only that one (a missing route's words, another path).
    const path = `/internal/reservations/${unknown}`;
    proxy.misrouted.set(unknown, { status: 404, members: { title: 'Not found', detail: 'Reservation not found', instance: path } });
    assert.equal(await client.release(unknown), 'absent');
    assert.equal((await client.get(unknown)).kind, 'absent');
    for (const members of [
      { title: 'Not found', detail: `No route for DELETE ${path}`, instance: path },
      { title: 'Not found', detail: 'Reservation not found', instance: `/internal/reservations/${randomUUID()}` },
      { title: 'Not found', detail: 'Reservation not found' },
    ]) {
      proxy.misrouted.set(unknown, { status: 404, members });
      assert.equal(await client.release(unknown), 'unavailable', JSON.stringify(members));
      assert.equal((await client.get(unknown)).kind, 'unexpected', JSON.stringify(members));
    }
    proxy.misrouted.clear();
  });

  it('when the product service reserves at placement but its answer cannot be read, then the customer is answered 503 pending with Retry-After, and a retry with the same key confirms the order once the answers are right', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 10 });
    proxy.down = false;
    proxy.garbled.add(p.id);
    const key = randomUUID();
    const send = () => http<{ orderId?: string; orderStatus?: string; id?: string; status?: string }>(order.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: 3 }] }, headers: { 'idempotency-key': key } });
    const first = await send();
    assert.equal(first.status, 503, `the truth: recorded pending, not a server error: ${first.text}`);
    assert.equal(first.body.orderStatus, 'pending');
    assert.ok(Number(first.headers.get('retry-after')) >= 1, 'says when to retry');
    const id = first.body.orderId!;
    // Stock is held for it meanwhile (the product service did reserve).
    assert.equal(await stockOf(product.base, p.id), 7);
    proxy.garbled.delete(p.id);
    await sleep(Number(first.headers.get('retry-after')) * 1000);
    const retry = await send();
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.id, id);
    assert.equal(retry.body.status, 'confirmed');
    // Held exactly once, for this confirmed order.
    assert.equal(await stockOf(product.base, p.id), 7);
    assert.deepEqual([...(await held([id]))], [id]);
  });
  it('when the audit finds confirmed orders without a reservation and the product service answers 500 to reading one of them, then the others are still repaired, and that one is once the answers are right', async () => {
    const buyer = await createCustomer(user.base, 'poison');
    const p = await createProduct(product.base, admin, { stock: 20 });
    proxy.down = false;
    const ids = await placeConfirmed(buyer.token, p.id, 3);
    // The first (the lowest id: audited first) cannot be read; all three lose their reservation behind the order service's back.
    const [bad, ...others] = ids as [string, ...string[]];
    proxy.failingReads.add(bad);
    const svc = await serviceToken();
    for (const id of ids) assert.equal((await http(product.base, 'DELETE', `/internal/reservations/${id}`, { token: svc })).status, 200);
    await waitFor('the audit to record the readable ones cancelled', async () => [...(await statuses(others)).values()].every((s) => s === 'cancelled'), 6_000);
    assert.equal((await statuses([bad])).get(bad), 'confirmed');
    proxy.failingReads.clear();
    await waitFor('the audit to record the last one cancelled', async () => (await statuses([bad])).get(bad) === 'cancelled', 6_000);
    // stock = initial + restocked - confirmed units: nothing confirmed, nothing held.
    assert.equal(await stockOf(product.base, p.id), 20);
    assert.equal((await held(ids)).size, 0);
  });
});
