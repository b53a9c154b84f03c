// The bound on a product's units, stock + units held by reservations <= MAX_STOCK (migration 017): a restock counts the
// held units, so no release can take stock past the integer column's 2^31 - 1. Through the HTTP API (the order
// service's reservation calls, the admin's stock changes) against a real database, read back by SQL.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { Database, Metrics, uuidv7 } from '@ecommerce/kit';
import { REFUSAL_STATUSES_PREFERENCE } from '@ecommerce/contracts';
import { assertProblem, createTestDatabase, http, sql } from '@ecommerce/test-support';
import { ProductRepository } from '../src/data/product-repository.js';
import { ReservationRepository } from '../src/data/reservation-repository.js';
import { MAX_STOCK } from '../src/model/product.js';
import { createProduct, getProduct, startStack, type Problem, type Reservation, type Stack } from './stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.close();
});

/** The most units one reservation line takes (the contract's bound), and lines one reservation has. */
const LINE_MAX = 1_000_000;
const LINES_MAX = 100;

/** A reservation of `units` of one product, in lines of at most LINE_MAX (the service sums lines per product). */
function reserve(orderId: string, productId: string, units: number) {
  const items = Array.from({ length: Math.ceil(units / LINE_MAX) }, (_, i) => ({ productId, quantity: Math.min(LINE_MAX, units - i * LINE_MAX) }));
  return http<Reservation & Problem>(stack.base, 'POST', '/internal/reservations', { token: stack.tokens.service, headers: { prefer: REFUSAL_STATUSES_PREFERENCE }, body: { orderId, items } });
}
const release = (orderId: string) => http<Reservation>(stack.base, 'DELETE', `/internal/reservations/${orderId}`, { token: stack.tokens.service });
const readReservation = (orderId: string) => http<Reservation>(stack.base, 'GET', `/internal/reservations/${orderId}`, { token: stack.tokens.service });
const adjust = (productId: string, delta: number) =>
  http<{ stock: number } & Problem & { available?: number; held?: number }>(stack.base, 'POST', `/product/${productId}/stock`, { token: stack.tokens.admin, body: { delta } });

/** The product's row as stored, and the units its reservations in status 'reserved' hold (summed from their lines). */
async function books(productId: string): Promise<{ stock: number; held: number; heldColumn: number }> {
  const [row] = await sql<{ stock: number; held: string; held_column: string }>(
    stack.db.urls.product,
    `SELECT p.stock, p.held AS held_column,
            (SELECT coalesce(sum(i.quantity), 0) FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id)
              WHERE i.product_id = p.id AND r.status = 'reserved') AS held
       FROM catalog.products p WHERE p.id = $1`,
    [productId],
  );
  return { stock: row!.stock, held: Number(row!.held), heldColumn: Number(row!.held_column) };
}

/** Holds `units` (a multiple of LINE_MAX * LINES_MAX or less) in reservations of at most 100 lines each; their order ids. */
async function hold(productId: string, units: number): Promise<string[]> {
  const orders: string[] = [];
  for (let left = units; left > 0; left -= LINE_MAX * LINES_MAX) {
    const orderId = uuidv7();
    const res = await reserve(orderId, productId, Math.min(left, LINE_MAX * LINES_MAX));
    assert.equal(res.status, 201, res.text);
    orders.push(orderId);
  }
  return orders;
}

describe('stock + held <= MAX_STOCK', { timeout: 300_000 }, () => {
  it('when units are held and the admin restocks past the bound, then 409 stock-limit-exceeded (available: the stock, held: the units held), and every release of them gives the units back (no integer overflow)', async () => {
    const p = await createProduct(stack, { stock: MAX_STOCK });
    const orders = await hold(p.id, MAX_STOCK);
    assert.equal((await getProduct(stack, p.id)).stock, 0);
    // stock 0, 1e9 held: restocking 1e9 took stock + held to 2e9 before the fix; releasing it all then overflowed.
    const restock = await adjust(p.id, MAX_STOCK);
    if (restock.status === 200) {
      orders.push(...(await hold(p.id, MAX_STOCK)));
      assert.equal((await adjust(p.id, 200_000_000)).status, 200);
    } else {
      assertProblem(restock, 409, 'stock-limit-exceeded');
      assert.equal(restock.body.available, 0);
      assert.equal(restock.body.held, MAX_STOCK);
      assert.equal(restock.body.detail, 'Stock may not exceed 1000000000 units, counting the 1000000000 units held by reservations: 0 more can be added');
    }
    for (const orderId of orders) {
      const res = await release(orderId);
      assert.equal(res.status, 200, `release of ${orderId}: ${res.text}`);
    }
    assert.deepEqual(await books(p.id), { stock: MAX_STOCK, held: 0, heldColumn: 0 });
  });

  it('when some units are held, then a restock of exactly what is left to the bound is taken and one more unit is refused', async () => {
    const p = await createProduct(stack, { stock: 700 });
    const orderId = uuidv7();
    assert.equal((await reserve(orderId, p.id, 300)).status, 201);
    const refused = await adjust(p.id, MAX_STOCK - 700 + 1);
    assertProblem(refused, 409, 'stock-limit-exceeded');
    assert.equal(refused.body.available, 400);
    assert.equal(refused.body.held, 300);
    assert.equal(refused.body.detail, 'Stock may not exceed 1000000000 units, counting the 300 units held by reservations: 999999300 more can be added');
    const taken = await adjust(p.id, MAX_STOCK - 700);
    assert.equal(taken.status, 200, taken.text);
    assert.equal(taken.body.stock, MAX_STOCK - 300);
    assertProblem(await adjust(p.id, 1), 409, 'stock-limit-exceeded');
    // Removing unreserved units is never refused for the bound; a release brings the held units back to stock.
    assert.equal((await adjust(p.id, -5)).status, 200);
    assert.equal((await release(orderId)).status, 200);
    assert.deepEqual(await books(p.id), { stock: MAX_STOCK - 5, held: 0, heldColumn: 0 });
  });

  it('when a restock past the bound is refused, then its detail counts the held units in words that agree with the number ("1 unit", "0 units", "2 units")', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 5 }), async (held, stock) => {
        // stock >= 1: a delta of at most MAX_STOCK (the contract's bound) reaches past the bound.
        const p = await createProduct(stack, { stock: stock + held });
        if (held > 0) assert.equal((await reserve(uuidv7(), p.id, held)).status, 201);
        const refused = await adjust(p.id, MAX_STOCK - stock - held + 1);
        assertProblem(refused, 409, 'stock-limit-exceeded');
        assert.equal(refused.body.held, held);
        const counted = /counting the (\d+) (\w+) held by reservations/.exec(refused.body.detail ?? '');
        assert.ok(counted, refused.body.detail);
        assert.deepEqual([Number(counted[1]), counted[2]], [held, held === 1 ? 'unit' : 'units'], refused.body.detail);
      }),
      { numRuns: 12 },
    );
  });

  it("when a pod of the previous release restocks past the bound during a rolling update (its SQL counts stock alone), then the database skips the update; a release's stock return still goes through", async () => {
    const p = await createProduct(stack, { stock: 100 });
    const orderId = uuidv7();
    assert.equal((await reserve(orderId, p.id, 60)).status, 201);
    // The previous release's ADJUST_STOCK, as it is sent.
    const previousRestock = (delta: number) =>
      sql<{ stock: number }>(
        stack.db.urls.product,
        `UPDATE catalog.products SET stock = stock + $2, version = version + 1, updated_at = now()
          WHERE id = $1 AND NOT archived AND stock + $2 >= 0 AND (stock + $2 <= $3 OR $2 < 0)
            AND ($4::integer[] IS NULL OR version = ANY($4::integer[])) AND ($5::integer[] IS NULL OR version <> ALL($5::integer[]))
          RETURNING stock`,
        [p.id, delta, MAX_STOCK, null, null],
      );
    // Stock 40, 60 held: 999,999,900 more reach the bound.
    assert.deepEqual(await previousRestock(MAX_STOCK - 40), [], 'stock to the bound, held past it: skipped');
    assert.deepEqual(await previousRestock(MAX_STOCK - 100 + 1), [], 'one unit past the bound: skipped');
    assert.deepEqual(await previousRestock(MAX_STOCK - 100), [{ stock: MAX_STOCK - 60 }], 'to the bound exactly: taken');
    assert.deepEqual(await previousRestock(-10), [{ stock: MAX_STOCK - 70 }], 'a removal: taken');
    assert.equal((await release(orderId)).status, 200);
    assert.deepEqual(await books(p.id), { stock: MAX_STOCK - 10, held: 0, heldColumn: 0 });
  });

  type Op =
    | { kind: 'reserve'; units: number }
    | { kind: 'confirm'; pick: number }
    | { kind: 'release'; pick: number }
    | { kind: 'restock'; delta: number }
    | { kind: 'fill'; over: number }
    | { kind: 'remove'; delta: number };

  /** Units: small, or near a bound (the contract's largest reservation, the largest change, what fills it exactly). */
  const units = (max: number) => fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: max - 1000, max }), fc.integer({ min: 1, max }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('reserve' as const), units: units(LINE_MAX * LINES_MAX) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('restock' as const), delta: units(MAX_STOCK) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('fill' as const), over: fc.integer({ min: -2, max: 2 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), delta: units(MAX_STOCK) }) },
  );

  it('property: any sequence of reserve / confirm / release / restock / remove, quantities near the bounds included, answers no 5xx and keeps stock >= 0, stock + held <= MAX_STOCK and stock = restocked - removed - held', async () => {
    await fc.assert(
      fc.asyncProperty(units(MAX_STOCK), fc.array(op, { minLength: 1, maxLength: 14 }), async (start, ops) => {
        const p = await createProduct(stack, { stock: start });
        // The model: what restocks added (the start included) and removals took, and the reservations held:
        // `pending` until the order service reads it to confirm, `confirmed` after; both hold their units here (the
        // product service keeps a confirmed order's units reserved until a cancel releases them).
        let added = start;
        let removed = 0;
        const held = new Map<string, { units: number; confirmed: boolean }>();
        const heldUnits = () => [...held.values()].reduce((s, h) => s + h.units, 0);
        const stockNow = () => added - removed - heldUnits();
        for (const o of ops) {
          const orders = [...held.keys()];
          if (o.kind === 'reserve') {
            const orderId = uuidv7();
            const res = await reserve(orderId, p.id, o.units);
            if (o.units <= stockNow()) {
              assert.equal(res.status, 201, res.text);
              held.set(orderId, { units: o.units, confirmed: false });
            } else assertProblem(res, 409, 'insufficient-stock');
          } else if (o.kind === 'confirm' || o.kind === 'release') {
            if (orders.length === 0) continue;
            const orderId = orders[o.pick % orders.length]!;
            if (o.kind === 'confirm') {
              const res = await readReservation(orderId);
              assert.equal(res.status, 200, res.text);
              assert.equal(res.body.status, 'reserved');
              held.get(orderId)!.confirmed = true;
            } else {
              const res = await release(orderId);
              assert.equal(res.status, 200, res.text);
              assert.equal(res.body.status, 'released');
              held.delete(orderId);
            }
          } else {
            const room = MAX_STOCK - stockNow() - heldUnits();
            // 'fill' restocks what is left to the bound counting the held units, give or take a unit or two: where a
            // bound that counted stock alone took more than that (at least a unit).
            const delta = o.kind === 'remove' ? -o.delta : o.kind === 'fill' ? Math.max(1, room + o.over) : o.delta;
            const res = await adjust(p.id, delta);
            if (delta > 0 ? delta <= room : -delta <= stockNow()) {
              assert.equal(res.status, 200, res.text);
              if (delta > 0) added += delta;
              else removed -= delta;
            } else if (delta > 0) {
              assertProblem(res, 409, 'stock-limit-exceeded');
              assert.equal(res.body.available, stockNow());
              assert.equal(res.body.held, heldUnits());
            } else {
              assertProblem(res, 409, 'insufficient-stock');
              assert.equal(res.body.available, stockNow());
            }
          }
          const b = await books(p.id);
          assert.ok(b.stock >= 0, `stock ${b.stock}`);
          assert.ok(b.stock + b.held <= MAX_STOCK, `stock ${b.stock} + held ${b.held} over the bound`);
          assert.equal(b.heldColumn, b.held, 'products.held is the units of its reserved lines');
          assert.equal(b.held, heldUnits());
          assert.equal(b.stock, added - removed - heldUnits(), 'stock = restocked - removed - held (confirmed or not)');
        }
        // Every reservation still held can be given back: afterwards stock is all that was restocked less what was removed.
        for (const orderId of held.keys()) assert.equal((await release(orderId)).status, 200);
        assert.deepEqual(await books(p.id), { stock: added - removed, held: 0, heldColumn: 0 });
      }),
      { numRuns: Number(process.env.STOCK_BOUND_RUNS ?? 25) },
    );
  });
});

describe('migration 017 on a database that already holds reservations', { timeout: 120_000 }, () => {
  it('when reservations are held (one of them mid-release while it runs, one product already over the bound), then held is backfilled to the units of the reserved lines, and afterwards reservations and releases keep it', async () => {
    const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));
    const before017 = mkdtempSync(join(tmpdir(), 'product-migrations-016-'));
    for (const file of readdirSync(MIGRATIONS)) if (file < '017') copyFileSync(join(MIGRATIONS, file), join(before017, file));
    const db = await createTestDatabase();
    const database = new Database({ url: db.urls.product, schema: 'catalog', poolMax: 3, applicationName: 'migration-017-test', metrics: new Metrics('t', '0', { defaultMetrics: false }) });
    // As the service connects: its schema first on the search path (reserve_stock and the triggers name tables bare).
    const url = `${db.urls.product}${db.urls.product.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c search_path=catalog')}`;
    const releasing = new pg.Client({ connectionString: url });
    try {
      await database.migrate(before017);
      const [a, b, over] = [uuidv7(), uuidv7(), uuidv7()];
      await sql(url, `INSERT INTO catalog.products (id, sku, name, price_cents, stock) VALUES ($1, 'A', 'A', 100, 100), ($2, 'B', 'B', 100, 10), ($3, 'C', 'C', 100, $4)`, [a, b, over, MAX_STOCK]);
      const reserveBy016 = (orderId: string, ids: string[], quantities: number[]) =>
        sql(url, 'SELECT * FROM catalog.reserve_stock($1, $2::uuid[], $3::integer[], NULL, NULL, NULL)', [orderId, ids, quantities]);
      const [o1, o2, o3, o4, o5] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
      await reserveBy016(o1, [a, b], [30, 4]);
      await reserveBy016(o2, [a], [20]);
      await reserveBy016(o3, [a, b], [5, 6]);
      // o2 released as the previous release does it (flip, then stock back).
      await sql(url, `UPDATE catalog.reservations SET status = 'released', released_at = now() WHERE order_id = $1`, [o2]);
      await sql(url, 'UPDATE catalog.products SET stock = stock + 20 WHERE id = $1', [a]);
      // What the overflow let happen: C restocked while 600,000,000 of it were held (stock + held 1.6e9).
      await reserveBy016(o4, [over], [600_000_000]);
      await sql(url, 'UPDATE catalog.products SET stock = stock + 600000000 WHERE id = $1', [over]);
      // o3's release by the previous release's pod is between its flip and its stock return while 017 runs.
      await releasing.connect();
      await releasing.query('BEGIN');
      await releasing.query(`UPDATE catalog.reservations SET status = 'released', released_at = now() WHERE order_id = $1`, [o3]);
      const migrating = database.migrate(MIGRATIONS);
      await sleep(300);
      await releasing.query('UPDATE catalog.products SET stock = stock + 5 WHERE id = $1', [a]);
      await releasing.query('UPDATE catalog.products SET stock = stock + 6 WHERE id = $1', [b]);
      await releasing.query('COMMIT');
      assert.deepEqual(await migrating, readdirSync(MIGRATIONS).filter((f) => f >= '017').map((f) => f.replace(/\.sql$/, '')), '017 and the migrations after it');
      const rows = async () =>
        Object.fromEntries(
          (await sql<{ id: string; stock: number; held: string }>(url, 'SELECT id, stock, held FROM catalog.products')).map((r) => [r.id, { stock: r.stock, held: Number(r.held) }]),
        );
      assert.deepEqual(await rows(), { [a]: { stock: 70, held: 30 }, [b]: { stock: 6, held: 4 }, [over]: { stock: 1_000_000_000, held: 600_000_000 } });

      // Afterwards: a reservation by the function (any release's pod calls it) and a release by this release's SQL keep it.
      const products = new ProductRepository(database);
      const reservations = new ReservationRepository(database);
      const taken = await reservations.reserve(o5, [{ productId: a, quantity: 7 }], null);
      assert.ok('rows' in taken && taken.rows[0]!.status === 'reserved');
      assert.deepEqual((await rows())[a], { stock: 63, held: 37 });
      // The four-argument overload of 006 (a pod two releases back) is the same reservation.
      await sql(url, 'SELECT * FROM reserve_stock($1, $2::uuid[], $3::integer[], NULL)', [uuidv7(), [b], [2]]);
      assert.deepEqual((await rows())[b], { stock: 4, held: 6 });
      assert.equal((await reservations.release(o1)).released, true);
      assert.deepEqual(await rows(), { [a]: { stock: 93, held: 7 }, [b]: { stock: 8, held: 2 }, [over]: { stock: 1_000_000_000, held: 600_000_000 } });
      // The product over the bound: its held units still come back (past the bound, as before), no unit can be added,
      // units can be removed.
      assert.equal(await products.adjustStock(over, 1, MAX_STOCK), undefined);
      assert.equal((await reservations.release(o4)).released, true);
      assert.deepEqual((await rows())[over], { stock: 1_600_000_000, held: 0 });
      assert.equal(await products.adjustStock(over, 1, MAX_STOCK), undefined);
      assert.equal((await products.adjustStock(over, -700_000_000, MAX_STOCK))?.stock, 900_000_000);
      assert.deepEqual((await rows())[over], { stock: 900_000_000, held: 0 });
    } finally {
      await releasing.end().catch(() => {});
      await database.close();
      await db.drop();
      rmSync(before017, { recursive: true, force: true });
    }
  });

  // A plpgsql function's body is read when a call starts: a call that began before 017 committed and then waited on
  // its lock of reservations runs 016's body after the commit, taking stock without adding held (measured with a bare
  // `SELECT * FROM reserve_stock(...)`: stock 93, held 0, 7 units in reserved lines; its release then fails held's
  // CHECK). The service's statement joins products, so the call holds products' ACCESS SHARE before the body runs and
  // 017's ALTER TABLE products closes a cycle: one of the two gives way (the call 40P01 at deadlock_timeout, a 503 its
  // order service retries; or the migration 55P03 at its 1 s lock_timeout, tried again), never a call past the commit.
  it("when the reservation statement of 017's release is in flight while 017 runs (waiting on 017's lock of reservations), then one of them gives way (the reservation 40P01, or 017 55P03 and is run again): held is always the units of the reserved lines", async () => {
    const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));
    const before017 = mkdtempSync(join(tmpdir(), 'product-migrations-016-'));
    for (const file of readdirSync(MIGRATIONS)) if (file < '017') copyFileSync(join(MIGRATIONS, file), join(before017, file));
    const db = await createTestDatabase();
    const metrics = new Metrics('t', '0', { defaultMetrics: false });
    const database = new Database({ url: db.urls.product, schema: 'catalog', poolMax: 3, applicationName: 'migration-017-in-flight', metrics });
    const url = `${db.urls.product}${db.urls.product.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c search_path=catalog')}`;
    const migrating = new pg.Client({ connectionString: url });
    try {
      await database.migrate(before017);
      const a = uuidv7();
      await sql(url, `INSERT INTO catalog.products (id, sku, name, price_cents, stock) VALUES ($1, 'A', 'A', 100, 100)`, [a]);
      // 017 as the runner applies it (one transaction, its 1 s lock_timeout), its first statement taken alone so the
      // reservation starts between it and the rest.
      await migrating.connect();
      await migrating.query('BEGIN');
      await migrating.query("SET LOCAL lock_timeout = '1s'");
      await migrating.query('LOCK TABLE reservations IN SHARE ROW EXCLUSIVE MODE');
      // The reservation statement of 017's release (018 has this release's, which reads the name reserve_stock answers
      // since 018: a pod of this release serves only once 018 has run).
      const reserving = database
        .lockWaiting(() =>
          database.query<{ status: string }>(
            'reservation_reserve_017',
            `SELECT r.status, r.product_id, r.quantity, r.unit_price_cents, r.currency, r.stock_left, r.replayed, r.refusal, p.name
             FROM reserve_stock($1, $2::uuid[], $3::integer[], $4::timestamptz, $5::bigint[], $6::text[]) r
             LEFT JOIN products p ON p.id = r.product_id`,
            [uuidv7(), [a], [7], null, null, null],
          ),
        )
        .then(
          (r) => r.rows[0]!.status,
          (err: { code?: string }) => err.code,
        );
      await sleep(300);
      const migrated = await migrating.query(readFileSync(join(MIGRATIONS, '017_held_units.sql'), 'utf8')).then(
        () => migrating.query('COMMIT').then(() => 'committed'),
        (err: { code?: string }) => migrating.query('ROLLBACK').then(() => err.code),
      );
      const reserved = await reserving;
      assert.ok(
        (migrated === 'committed' && reserved === '40P01') || (migrated === '55P03' && reserved === 'reserved'),
        `017 ${migrated}, the reservation ${reserved}: one of them gives way`,
      );
      // Given way: tried again, as the runner does.
      if (migrated !== 'committed') await database.migrate(MIGRATIONS);
      const [row] = await sql<{ stock: number; held: string; lines: string }>(
        url,
        `SELECT p.stock, p.held, (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r USING (order_id)
                                   WHERE i.product_id = p.id AND r.status = 'reserved') AS lines
           FROM products p WHERE p.id = $1`,
        [a],
      );
      assert.equal(Number(row!.held), Number(row!.lines), `held as the reserved lines: ${JSON.stringify(row)}`);
      assert.equal(row!.stock + Number(row!.held), 100);
    } finally {
      await migrating.end().catch(() => {});
      await database.close();
      await db.drop();
      rmSync(before017, { recursive: true, force: true });
    }
  });
});
