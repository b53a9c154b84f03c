// A stale driver: D1 holds an order's drive lease, stalls past it (a GC pause, a slow network), and its reservation
// call comes back with nothing decided once the order's deadline has passed, so D1 gives the order up. Meanwhile its
// lease ran out and D2 claimed the order and reserved stock for it. Each interleaving is played out deterministically
// through the order service's own use cases and repository (real PostgreSQL, a real product service): D2's
// confirm is let go after D1's k-th call to the database or the product service, for every k. Whatever the
// interleaving, the books must agree at the end: a confirmed order holds its reservation (the customer told
// "confirmed" keeps it), a failed one holds nothing, and stock = start - units held. Two audits at once (a stale
// auditor: its lock lost with its connection) repair each drift once. A driver whose call went unanswered gives back
// only the lease it holds, never the one of a driver that claimed the order since. Then a real process SIGKILLed while
// it gives orders up, their releases unanswered.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCustomer, createProduct, freePort, http, sql, stockOf, stopAll, stopAllIfItFails, waitFor, type Running } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import type { Reconciler } from '../src/background/reconciler.js';
import type { OrderDeps } from '../src/use-cases/order-deps.js';
import { settleOrder } from '../src/use-cases/settle-order.js';
import type { App } from '@ecommerce/kit';
import { orderEnv, spawnOrderProcess, startOrderService } from './harness.js';
import { productProxy, reservationOrderId, type ProductProxy } from './product-proxy.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

const DEADLINE_MS = 1_500;
const WINDOW_MS = 900;
/** D1's lease: it runs out while D1 is stalled, so D2 may claim the order. */
const D1_LEASE_MS = 100;
const START_STOCK = 20;
/** D1's calls after its stalled reservation call, at most (the interleavings go one past them). */
const D1_STEPS = 4;

/** Opens once. */
function gate(): { open(): void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** `target` with every method call awaiting `before(name)` first and `after(name)` once made (the hooks of an interleaving). */
function hooked<T extends object>(target: T, before: (name: string) => Promise<void> | void, after: (name: string) => Promise<void> | void = () => undefined): T {
  return new Proxy(target, {
    get(t, name, receiver) {
      const v = Reflect.get(t, name, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await before(String(name));
        const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        await after(String(name));
        return out;
      };
    },
  });
}

/** A pending order of `quantity` units of one product, its lease held by D1 (the driver that will stall). */
function insertDriven(deps: OrderDeps, id: string, productId: string, quantity: number) {
  return deps.repository.insertPending({
    id,
    userId: randomUUID(),
    items: [{ productId, quantity, unitPriceCents: null }],
    key: randomUUID(),
    requestHash: 'stale-driver',
    deadlineMs: DEADLINE_MS,
    leaseMs: D1_LEASE_MS,
    maxUnitsPerHour: 0,
    traceparent: null,
  });
}

/**
 * Registers the describe's hooks: the product service, and an order service whose reconciler and audit stay out of
 * the way (the drivers a test runs are the only ones). Both are on the answer's fields once `before` has run.
 */
function servicesWithoutReconciler(): { product: Running; order: Running<App> } {
  const started = {} as { product: Running; order: Running<App> };
  before(async () => {
    started.product = await startProductService(db.urls.product, user.base);
    started.order = (await startOrderService(db.urls.order, user.base, started.product.base, { RECONCILER_INTERVAL_MS: '600000', AUDIT_INTERVAL_MS: '86400000' })) as Running<App>;
  });
  after(() => stopAll(started.order, started.product));
  return started;
}

describe('a stale driver: the lease ran out under it and another driver took the order', { timeout: 120_000 }, () => {
  const started = servicesWithoutReconciler();

  for (let k = 0; k <= D1_STEPS; k++) {
    it(`when D2's confirm lands after D1's call #${k} past the deadline, then a confirmed order holds its reservation, a failed one nothing, and stock = start - held`, async () => {
      const deps = (started.order.app as unknown as { orders: OrderDeps }).orders;
      const p = await createProduct(started.product.base, admin, { stock: START_STOCK });
      const id = randomUUID();
      const row = await insertDriven(deps, id, p.id, 2);
      assert.ok(row);

      // D1: its reservation call stalls until after the deadline, then comes back with nothing decided (a 422).
      const d1Answers = gate();
      const d2Confirms = gate();
      const d2AtConfirm = gate();
      const d2Settled = gate();
      let d1Calls = 0;
      // After its k-th call D1 waits until D2 has settled: D2's confirm lands between D1's calls k and k + 1.
      const d1Step = async () => {
        if (++d1Calls !== k) return;
        d2Confirms.open();
        await d2Settled.opened;
      };
      const d1: OrderDeps = {
        ...deps,
        reservationWindowMs: WINDOW_MS,
        repository: hooked(deps.repository, () => undefined, d1Step),
        products: hooked(
          deps.products,
          async (name) => {
            if (name === 'reserve') await d1Answers.opened;
          },
          (name) => (name === 'reserve' ? undefined : d1Step()),
        ),
      };
      // The stalled call is answered with a client error (nothing decided): so D1 gives the order up past its deadline.
      d1.products = Object.assign(Object.create(d1.products) as OrderDeps['products'], {
        reserve: async () => {
          await d1Answers.opened;
          return { kind: 'unexpected' as const, reason: 'product answered 422 (late)' };
        },
      });
      if (k === 0) d2Confirms.open();
      const d1Done = settleOrder(d1, row).finally(() => d2Confirms.open());

      // D2: claims the order once D1's lease ran out, reserves (in the window), and waits at its confirm.
      await sleep(D1_LEASE_MS + 50);
      const claimed = await deps.repository.claimDrive(id, 10_000);
      assert.ok(claimed, 'D2 claims the order once D1 lease ran out');
      const d2: OrderDeps = {
        ...deps,
        reservationWindowMs: WINDOW_MS,
        repository: hooked(deps.repository, async (name) => {
          if (name === 'transition') {
            d2AtConfirm.open();
            await d2Confirms.opened;
          }
        }),
      };
      const d2Done = settleOrder(d2, claimed).finally(() => d2Settled.open());
      await d2AtConfirm.opened;

      // D1 resumes past the deadline.
      await sleep(DEADLINE_MS + 100);
      d1Answers.open();
      await Promise.all([d1Done, d2Done]);

      const [o] = await sql<{ status: string }>(db.urls.order, 'SELECT status FROM orders.orders WHERE id = $1', [id]);
      const [r] = await sql<{ status: string }>(db.urls.product, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [id]);
      const held = r?.status === 'reserved';
      assert.ok(o && (o.status === 'confirmed' || o.status === 'failed'), `final: ${o?.status}`);
      if (o.status === 'confirmed') assert.ok(held, 'the order was confirmed while its reservation was released: its customer was told confirmed, and the audit would cancel it');
      else assert.ok(!held, `a ${o.status} order holds stock`);
      assert.equal(await stockOf(started.product.base, p.id), START_STOCK - (held ? 2 : 0), 'stock = start - units held');
    });
  }

  it('when two audits run at once (the lock of one lost with its connection mid-audit), then each drift is repaired once and the books agree', async () => {
    const { orders: deps, reconciler } = started.order.app as unknown as { orders: OrderDeps; reconciler: Reconciler };
    const p = await createProduct(started.product.base, admin, { stock: START_STOCK });
    const settled = async (quantity: number) => {
      const row = await deps.repository.insertPending({
        id: randomUUID(),
        userId: randomUUID(),
        items: [{ productId: p.id, quantity, unitPriceCents: null }],
        key: randomUUID(),
        requestHash: 'two-audits',
        deadlineMs: 60_000,
        leaseMs: 10_000,
        maxUnitsPerHour: 0,
        traceparent: null,
      });
      const { row: done } = await settleOrder(deps, row!);
      assert.equal(done.status, 'confirmed');
      return done.id;
    };
    // Drift of both kinds: a confirmed order whose reservation was released, a reservation held for a failed order.
    const [lost, orphaned, kept] = [await settled(1), await settled(2), await settled(3)];
    assert.equal(await deps.products.release(lost), 'released');
    await sql(db.urls.order, "UPDATE orders.orders SET status = 'failed' WHERE id = $1", [orphaned]);
    const audit = () => (reconciler as unknown as { audit(signal: AbortSignal): Promise<{ reservationWithoutOrder: number; orderWithoutReservation: number }> }).audit(new AbortController().signal);
    const results = await Promise.all([audit(), audit()]);
    assert.equal(results.reduce((n, r) => n + r.orderWithoutReservation, 0), 1, 'the confirmed order without a reservation cancelled once');
    assert.equal(results.reduce((n, r) => n + r.reservationWithoutOrder, 0), 1, 'the reservation of the failed order released once');
    const statuses = new Map((await sql<{ id: string; status: string }>(db.urls.order, 'SELECT id, status FROM orders.orders WHERE id = ANY($1::uuid[])', [[lost, orphaned, kept]])).map((r) => [r.id, r.status]));
    assert.deepEqual([statuses.get(lost), statuses.get(orphaned), statuses.get(kept)], ['cancelled', 'failed', 'confirmed']);
    const held = (await sql<{ order_id: string }>(db.urls.product, "SELECT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [[lost, orphaned, kept]])).map((r) => r.order_id);
    assert.deepEqual(held, [kept]);
    assert.equal(await stockOf(started.product.base, p.id), START_STOCK - 3, 'stock = start - the units of the one confirmed order');
  });

  for (let k = 1; k <= D1_STEPS - 1; k++) {
    it(`when the driver giving an order up dies after its call #${k} (its reservation taken, its answer unreadable), then the reconciler ends it failed with nothing held`, async () => {
      const { orders: deps, reconciler } = started.order.app as unknown as { orders: OrderDeps; reconciler: Reconciler };
      const p = await createProduct(started.product.base, admin, { stock: START_STOCK });
      const id = randomUUID();
      const row = await insertDriven(deps, id, p.id, 3);
      assert.ok(row);
      let d1Calls = 0;
      const died = new Error('the driver died here');
      const d1Step = () => {
        // Nothing of D1 runs after this: as if its process were killed right after the call.
        if (++d1Calls === k) throw died;
      };
      const d1: OrderDeps = {
        ...deps,
        reservationWindowMs: WINDOW_MS,
        repository: hooked(deps.repository, () => undefined, d1Step),
        products: hooked(deps.products, () => undefined, (name) => (name === 'reserve' ? undefined : d1Step())),
      };
      // The stock is taken, but the answer cannot be read, and comes once the deadline has passed.
      d1.products = Object.assign(Object.create(d1.products) as OrderDeps['products'], {
        reserve: async (...args: Parameters<OrderDeps['products']['reserve']>) => {
          assert.equal((await deps.products.reserve(...args)).kind, 'reserved');
          await sleep(DEADLINE_MS + 100);
          return { kind: 'unexpected' as const, reason: 'an unreadable answer' };
        },
      });
      await assert.rejects(settleOrder(d1, row), died);
      await reconciler.runOnce();

      const [o] = await sql<{ status: string }>(db.urls.order, 'SELECT status FROM orders.orders WHERE id = $1', [id]);
      const [r] = await sql<{ status: string }>(db.urls.product, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [id]);
      const held = r?.status === 'reserved';
      assert.equal(o?.status, 'failed');
      assert.ok(!held, `a failed order, its reservation ${r?.status}`);
      assert.equal(await stockOf(started.product.base, p.id), START_STOCK, 'stock = start: nothing held');
    });
  }
});

/**
 * A proxy to the product service: while `garbling`, reservation calls reach it (stock is taken) and their answer comes
 * back without its lines (the order cannot read it: each try fails for that order alone); while `refusingReleases`,
 * releases are answered 503 and never forwarded: the stock stays held while the order is given up. `releasesSeen`:
 * the order ids whose release was asked for.
 */
async function givingUpProxy(target: string): Promise<ProductProxy & { garbling: boolean; refusingReleases: boolean; releasesSeen: Set<string> }> {
  const state = { garbling: true, refusingReleases: true, releasesSeen: new Set<string>() };
  const proxy = await productProxy(target, ({ method, path }) => {
    if (method === 'DELETE' && path.startsWith('/internal/reservations/')) {
      state.releasesSeen.add(reservationOrderId(path));
      if (state.refusingReleases) return { status: 503, slug: 'service-unavailable' };
    }
    return { forward: true, garble: state.garbling && method === 'POST' && path === '/internal/reservations' };
  });
  return Object.assign(state, proxy);
}

const GIVEN_UP_ORDERS = 24;

describe('a driver whose call went unanswered gives back only its own lease', { timeout: 60_000 }, () => {
  const started = servicesWithoutReconciler();

  /** The product service does not answer (an outage, or a call that timed out): nothing is decided. */
  const unanswered = (deps: OrderDeps): OrderDeps =>
    ({ ...deps, products: Object.assign(Object.create(deps.products) as OrderDeps['products'], { reserve: async () => ({ kind: 'unavailable', reason: 'test: no answer' }) }) }) as OrderDeps;

  it('when a stale driver (its lease ran out while its call hung) gets no answer after another driver claimed the order, then the other driver keeps its lease: no third driver can claim it', async () => {
    const deps = (started.order.app as unknown as { orders: OrderDeps }).orders;
    const p = await createProduct(started.product.base, admin, { stock: START_STOCK });
    const id = randomUUID();
    const d1 = await insertDriven(deps, id, p.id, 1);
    assert.ok(d1);
    await sleep(D1_LEASE_MS + 50);
    const d2 = await deps.repository.claimDrive(id, 10_000);
    assert.ok(d2, 'D2 claims the order once D1\'s lease ran out');
    // D1's call comes back unanswered: it gives its lease back, which is no longer the lease on the order.
    const r1 = await settleOrder(unanswered(deps), d1);
    assert.ok(r1.unavailable);
    assert.ok((await deps.repository.leaseLeftMs(id)) > 5_000, `D2's lease was taken from it: ${await deps.repository.leaseLeftMs(id)} ms left`);
    assert.equal(await deps.repository.claimDrive(id, 10_000), null, 'a third driver claimed the order D2 drives');
  });

  it('when a replay claims an order between the reconciler giving its unanswered lease back and putting the order at the back of the line, then the replay keeps its lease', async () => {
    const { orders: deps, reconciler } = started.order.app as unknown as { orders: OrderDeps; reconciler: Reconciler };
    const p = await createProduct(started.product.base, admin, { stock: START_STOCK });
    const id = randomUUID();
    assert.ok(await insertDriven(deps, id, p.id, 1));
    await sleep(D1_LEASE_MS + 50);
    let replay: unknown = null;
    // The reconciler's own dependencies, its repository hooked: just before it puts the order at the back of the line, a replay claims it.
    const repository = hooked(deps.repository, async (name) => {
      if (name === 'triedAgainLater') replay = await deps.repository.claimDrive(id, 10_000);
    });
    const Pass = (reconciler as unknown as { constructor: new (...a: unknown[]) => Reconciler }).constructor;
    const pass = new Pass({ ...unanswered(deps), repository }, started.order.app.log, 600_000, 86_400_000);
    await pass.runOnce();
    assert.ok(replay, 'the replay claimed the order the reconciler gave back');
    assert.ok((await deps.repository.leaseLeftMs(id)) > 5_000, `the replay's lease was taken from it: ${await deps.repository.leaseLeftMs(id)} ms left`);
    assert.equal(await deps.repository.claimDrive(id, 10_000), null, 'a third driver claimed the order the replay drives');
  });
});

describe('the process SIGKILLed while it gives orders up', { timeout: 120_000 }, () => {
  it(`when ${GIVEN_UP_ORDERS} orders whose reservations were taken but cannot be read pass their deadline and the process is SIGKILLed while their releases go unanswered (503), then after a restart each is final and a reservation is held exactly for the confirmed ones`, async () => {
    const product = await startProductService(db.urls.product, user.base);
    const proxy = await givingUpProxy(product.base);
    const port = await freePort();
    const env = orderEnv(db.urls.order, user.base, proxy.base, { PENDING_DEADLINE_MS: '3000', RESERVATION_TIMEOUT_MS: '300', RECONCILER_INTERVAL_MS: '100', AUDIT_INTERVAL_MS: '86400000' });
    let proc = await stopAllIfItFails(spawnOrderProcess(env, port), proxy, product);
    try {
      const p = await createProduct(product.base, admin, { stock: START_STOCK * 5 });
      const buyer = await createCustomer(user.base, 'giving-up');
      const placed = await Promise.all(
        Array.from({ length: GIVEN_UP_ORDERS }, (_, i) =>
          http<{ orderId?: string }>(proc.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: 1 + (i % 3) }] }, headers: { 'idempotency-key': randomUUID() } }),
        ),
      );
      assert.deepEqual([...new Set(placed.map((r) => r.status))], [503], 'the reservations taken, their answers unreadable: pending');
      const ids = placed.map((r) => r.body.orderId!);
      // Past the deadline every order is given up and its release asked for, in vain: killed then.
      await waitFor('a release asked for every order', async () => ids.every((id) => proxy.releasesSeen.has(id)), 30_000);
      await proc.kill();
      proxy.garbling = false;
      proxy.refusingReleases = false;

      proc = await spawnOrderProcess(env, port);
      const pending = async () => (await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status = 'pending'", [ids]))[0]!.n;
      await waitFor('every order final', async () => (await pending()) === 0, 30_000);
      const orders = await sql<{ id: string; status: string; units: number }>(db.urls.order, `SELECT id, status, (items->0->>'quantity')::int AS units FROM orders.orders WHERE id = ANY($1::uuid[])`, [ids]);
      const held = new Set(
        (await sql<{ order_id: string }>(db.urls.product, "SELECT order_id FROM catalog.reservations WHERE order_id = ANY($1::uuid[]) AND status = 'reserved'", [ids])).map((r) => r.order_id),
      );
      for (const o of orders) assert.equal(held.has(o.id), o.status === 'confirmed', `order ${o.id} is ${o.status}, its reservation ${held.has(o.id) ? 'held' : 'not held'}`);
      const units = orders.filter((o) => o.status === 'confirmed').reduce((n, o) => n + o.units, 0);
      assert.equal(await stockOf(product.base, p.id), START_STOCK * 5 - units, 'stock = start - units held');
      // Given up before the kill: failed, never confirmed after their deadline by a replayed reservation.
      assert.deepEqual([...new Set(orders.map((o) => o.status))], ['failed']);
    } finally {
      await proc.kill('SIGTERM');
      await stopAll(proxy, product);
    }
  });
});
