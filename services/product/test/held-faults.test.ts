// products.held (migration 017) under concurrent clients and faults: rounds of reservations (some past their window),
// reads as the order service confirms, releases, keyed restocks and removals at and around the bounds (what is left to
// stock + held = MAX_STOCK, or to stock = MAX_STOCK as a bound of stock alone allowed, give or take two units; all the
// stock), archives, and the previous release's restock and release SQL (a rolling update: its restock counts stock
// alone, the database's trigger bounds it), sent at once to the real product
// process; during a round its database connections are ended (pg_terminate_backend on its application_name) or the
// process is SIGKILLed and started again, at a generated moment. Every request left without an answer (or answered
// 503) is sent again as a client would (the same order id, the same Idempotency-Key). After each round, by SQL, per
// product: held = the units of its lines in reservations still 'reserved' (each reservation once), stock >= 0,
// held >= 0, stock + held <= MAX_STOCK, and stock + held = its start + the keyed adjustments applied + the previous
// release's restocks applied (a reservation moves units from stock to held, a release back, a confirm neither). At the
// end every reservation is released: held 0 everywhere, stock = start + what was added less what was removed.
// HELD_FAULTS_RUNS sets the number of generated runs (15; each about 1-2 s).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { REFUSAL_STATUSES_PREFERENCE } from '@ecommerce/contracts';
import { adminToken, createProduct, freePort, http, serviceToken, sql, startServiceProcess, stopAll, type Running, type ServiceProcess, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { MAX_STOCK } from '../src/model/product.js';

const PRODUCTS = 2;
const ORDERS = 10;
/** The contract's bounds of a reservation: units per line, lines per reservation. */
const LINE_MAX = 1_000_000;
const LINES_MAX = 100;

type Op =
  | { kind: 'reserve'; order: number; lines: { product: number; units: number }[]; expired: boolean }
  | { kind: 'confirm'; order: number }
  | { kind: 'release'; order: number }
  | { kind: 'restock'; product: number; delta: number }
  | { kind: 'fill'; product: number; over: number; stockAlone: boolean }
  | { kind: 'empty'; product: number; over: number }
  | { kind: 'archive'; product: number }
  | { kind: 'previousRestock'; product: number; over: number; stockAlone: boolean }
  | { kind: 'previousRelease'; order: number };
type Fault = { kind: 'none' } | { kind: 'terminate' | 'kill'; atMs: number };
type Round = { ops: Op[]; fault: Fault };

/** Units: a few, or near the largest a reservation of one product takes, or anything up to it. */
const units = (max: number) => fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: max - 5, max }), fc.integer({ min: 1, max }));
const product = fc.integer({ min: 0, max: PRODUCTS - 1 });
const order = fc.integer({ min: 0, max: ORDERS - 1 });
const over = fc.integer({ min: -2, max: 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      order,
      lines: fc.uniqueArray(fc.record({ product, units: units(LINE_MAX * LINES_MAX) }), { minLength: 1, maxLength: 2, selector: (l) => l.product }),
      expired: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirm' as const), order }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), order }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restock' as const), product, delta: units(MAX_STOCK) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fill' as const), product, over, stockAlone: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('empty' as const), product, over }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('archive' as const), product }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('previousRestock' as const), product, over, stockAlone: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('previousRelease' as const), order }) },
);
const fault: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('terminate' as const), atMs: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), atMs: fc.integer({ min: 0, max: 40 }) }) },
);
const round: fc.Arbitrary<Round> = fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 5 }), fault });
/** A product's stock at its creation: none or a few, at the bound or just under, anything. */
const start = fc.oneof(fc.integer({ min: 0, max: 5 }), { weight: 2, arbitrary: fc.integer({ min: MAX_STOCK - 5, max: MAX_STOCK }) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: MAX_STOCK }) });

/** What the statuses of each operation may be: never a 500. 503 only until retried (a fault, a lock wait). */
const ANSWERS: Record<Op['kind'], number[]> = {
  reserve: [200, 201, 404, 409],
  confirm: [200, 404],
  release: [200, 404],
  restock: [200, 404, 409],
  fill: [200, 404, 409],
  empty: [200, 404, 409],
  archive: [204, 404],
  previousRestock: [],
  previousRelease: [],
};

describe('products.held under concurrent clients, ended connections and a SIGKILLed process', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let users: Running;
  let admin: string;
  let service: string;
  let proc: ServiceProcess | undefined;
  const counts = { runs: 0, rounds: 0, ops: 0, terminations: 0, kills: 0, resent: 0, refusedAtBound: 0, skippedByTrigger: 0 };
  before(async () => {
    ({ db, user: users } = await startUserStack());
    admin = await adminToken(users.base);
    service = await serviceToken(users.base);
  });
  after(async () => {
    await proc?.kill();
    await stopAll(users, db);
  });

  it('property: held is the units of the reserved lines, stock >= 0, stock + held <= MAX_STOCK and stock + held = start + what was added, whatever interleaves and fails', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: db.urls.product, USER_SERVICE_URL: users.base, LOG_LEVEL: 'silent', NODE_ENV: 'test', SEED_DEMO_DATA: 'false' };
    const spawn = () => startServiceProcess(fileURLToPath(new URL('../src/main.js', import.meta.url)), env, { port, name: 'product process' });
    proc = await spawn();
    // As a pod of the previous release connects (not this service's application_name: its connections are not ended).
    const url = `${db.urls.product}${db.urls.product.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c search_path=catalog -c lock_timeout=2s')}`;

    await fc.assert(
      fc.asyncProperty(fc.record({ starts: fc.array(start, { minLength: PRODUCTS, maxLength: PRODUCTS }), rounds: fc.array(round, { minLength: 2, maxLength: 7 }) }), async (plan) => {
        counts.runs++;
        const products: string[] = [];
        for (const stock of plan.starts) products.push((await createProduct(proc!.base, admin, { stock, priceCents: 100 })).id);
        const orderIds = Array.from({ length: ORDERS }, () => randomUUID());
        // Units the previous release's restocks added (they keep no key).
        const addedUnkeyed = products.map(() => 0);

        const books = async () =>
          sql<{ id: string; stock: number; held: string; lines: string; adjusted: string }>(
            db.urls.product,
            `SELECT p.id, p.stock, p.held,
                    (SELECT coalesce(sum(i.quantity), 0) FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id)
                      WHERE i.product_id = p.id AND r.status = 'reserved') AS lines,
                    (SELECT coalesce(sum(a.delta), 0) FROM catalog.stock_adjustments a WHERE a.product_id = p.id) AS adjusted
               FROM catalog.products p WHERE p.id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], p.id)`,
            [products],
          );
        const room = async (p: number) => {
          const [row] = await sql<{ stock: number; held: string }>(db.urls.product, 'SELECT stock, held FROM catalog.products WHERE id = $1', [products[p]]);
          return { stock: row!.stock, held: Number(row!.held) };
        };

        /** The request of an op, its delta fixed when first sent (a resend is the same request). */
        const sendOf = async (o: Op): Promise<(() => Promise<{ status: number; body: Record<string, unknown>; text: string }>) | undefined> => {
          switch (o.kind) {
            case 'reserve': {
              // Each product's units in lines of at most LINE_MAX, the reservation at most LINES_MAX lines.
              const share = Math.floor(LINES_MAX / o.lines.length) * LINE_MAX;
              const items = o.lines.flatMap((l) => {
                const u = Math.min(l.units, share);
                return Array.from({ length: Math.ceil(u / LINE_MAX) }, (_, i) => ({ productId: products[l.product]!, quantity: Math.min(LINE_MAX, u - i * LINE_MAX) }));
              });
              const body = { orderId: orderIds[o.order], items, ...(o.expired ? { notAfter: new Date(Date.now() - 1000).toISOString() } : {}) };
              return () => http(proc!.base, 'POST', '/internal/reservations', { token: service, headers: { prefer: REFUSAL_STATUSES_PREFERENCE }, body });
            }
            case 'confirm':
              return () => http(proc!.base, 'GET', `/internal/reservations/${orderIds[o.order]}`, { token: service });
            case 'release':
              return () => http(proc!.base, 'DELETE', `/internal/reservations/${orderIds[o.order]}`, { token: service });
            case 'archive':
              return () => http(proc!.base, 'DELETE', `/product/${products[o.product]}`, { token: admin });
            case 'restock':
            case 'fill':
            case 'empty': {
              let delta = o.kind === 'restock' ? o.delta : 0;
              if (o.kind !== 'restock') {
                const r = await room(o.product);
                delta = o.kind === 'fill' ? MAX_STOCK - r.stock - (o.stockAlone ? 0 : r.held) + o.over : -(r.stock + o.over);
                if (delta === 0 || Math.abs(delta) > MAX_STOCK) delta = o.kind === 'fill' ? 1 : -1;
              }
              const key = randomUUID();
              return () => http(proc!.base, 'POST', `/product/${products[o.product]}/stock`, { token: admin, body: { delta }, headers: { 'idempotency-key': key } });
            }
            case 'previousRestock':
              return undefined;
            case 'previousRelease':
              return undefined;
          }
        };

        /** The previous release's SQL, run here on a connection of its own: its restock (stock alone bounded) and its release (flip, then stock back). */
        const previous = async (o: Extract<Op, { kind: 'previousRestock' | 'previousRelease' }>) => {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          try {
            if (o.kind === 'previousRestock') {
              const r = await room(o.product);
              // To the bound counting held, or to the bound its own SQL checks (stock alone), give or take two units.
              const delta = Math.max(1, Math.min(MAX_STOCK, MAX_STOCK - r.stock - (o.stockAlone ? 0 : r.held) + o.over));
              const res = await c.query<{ stock: number }>(
                `UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now()
                  WHERE id = $1 AND NOT archived AND stock + $2 >= 0 AND (stock + $2 <= $3 OR $2 < 0) RETURNING stock`,
                [products[o.product], delta, MAX_STOCK],
              );
              if (res.rowCount === 1) addedUnkeyed[o.product]! += delta;
              else counts.skippedByTrigger++;
            } else {
              await c.query('BEGIN');
              const flipped = await c.query(`UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1 AND status = 'reserved' RETURNING order_id`, [
                orderIds[o.order],
              ]);
              if (flipped.rowCount === 1) {
                const lines = await c.query<{ product_id: string; quantity: number }>('SELECT product_id, quantity FROM reservation_items WHERE order_id = $1 ORDER BY product_id', [
                  orderIds[o.order],
                ]);
                for (const l of lines.rows) await c.query('UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now() WHERE id = $1', [l.product_id, l.quantity]);
              }
              await c.query('COMMIT');
            }
          } catch (err) {
            // A lock wait past its lock_timeout, a deadlock: rolled back, nothing changed.
            if (!['55P03', '40P01'].includes((err as { code?: string }).code ?? '')) throw err;
            await c.query('ROLLBACK').catch(() => {});
          } finally {
            await c.end();
          }
        };

        for (const [r, rnd] of plan.rounds.entries()) {
          counts.rounds++;
          counts.ops += rnd.ops.length;
          const answers: ({ status: number; body: Record<string, unknown>; text: string } | undefined)[] = rnd.ops.map(() => undefined);
          const sends = await Promise.all(rnd.ops.map((o) => sendOf(o)));
          const attempt = (i: number) =>
            sends[i]!().then(
              (a) => (answers[i] = a),
              () => undefined,
            );
          // The round: every op at once, the fault at its moment.
          const work = rnd.ops.map((o, i) => (sends[i] ? attempt(i) : previous(o as Extract<Op, { kind: 'previousRestock' | 'previousRelease' }>)));
          if (rnd.fault.kind !== 'none') {
            await sleep(rnd.fault.atMs);
            if (rnd.fault.kind === 'terminate') {
              counts.terminations++;
              await sql(db.adminUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'product-service'", [db.name]);
            } else {
              counts.kills++;
              await proc!.kill();
            }
          }
          await Promise.all(work);
          if (rnd.fault.kind === 'kill') proc = await spawn();
          // Sent again until answered, in order, as a client retries.
          for (let i = 0; i < rnd.ops.length; i++) {
            if (!sends[i]) continue;
            for (let t = 0; answers[i] === undefined || answers[i]!.status === 503; t++) {
              assert.ok(t < 50, `round ${r} op ${i} (${JSON.stringify(rnd.ops[i])}) never answered: ${answers[i]?.text}`);
              if (t > 0) await sleep(50);
              counts.resent++;
              await attempt(i);
            }
            const a = answers[i]!;
            assert.ok(ANSWERS[rnd.ops[i]!.kind].includes(a.status), `round ${r} op ${i} (${JSON.stringify(rnd.ops[i])}) answered ${a.status} ${a.text}`);
            if (a.body?.type !== undefined && String(a.body.type).endsWith('stock-limit-exceeded')) {
              counts.refusedAtBound++;
              assert.ok(Number.isInteger(a.body.held) && (a.body.held as number) >= 0, a.text);
              assert.ok(Number.isInteger(a.body.available) && (a.body.available as number) >= 0, a.text);
            }
          }

          // The books, straight from the database.
          const rows = await books();
          for (const [p, row] of rows.entries()) {
            const held = Number(row.held);
            const what = `round ${r}, product ${p} (start ${plan.starts[p]}): ${JSON.stringify(row)}, previous release added ${addedUnkeyed[p]}`;
            assert.equal(held, Number(row.lines), `${what}: held is not the units of its reserved lines`);
            assert.ok(row.stock >= 0 && held >= 0, `${what}: below zero`);
            assert.ok(row.stock + held <= MAX_STOCK, `${what}: stock + held past the bound`);
            assert.equal(row.stock + held, plan.starts[p]! + Number(row.adjusted) + addedUnkeyed[p]!, `${what}: units made or lost`);
          }
          // A reservation held has its lines; a line's reservation exists (each reservation counted once: one row per order id).
          const orphans = await sql(
            db.urls.product,
            `SELECT r.order_id FROM catalog.reservations r WHERE r.order_id = ANY($1::uuid[]) AND r.status = 'reserved'
               AND NOT EXISTS (SELECT 1 FROM catalog.reservation_items i WHERE i.order_id = r.order_id)
             UNION ALL
             SELECT i.order_id FROM catalog.reservation_items i WHERE i.order_id = ANY($1::uuid[])
               AND NOT EXISTS (SELECT 1 FROM catalog.reservations r WHERE r.order_id = i.order_id)
             UNION ALL
             SELECT i.order_id FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id)
              WHERE i.order_id = ANY($1::uuid[]) AND r.status = 'refused'`,
            [orderIds],
          );
          assert.deepEqual(orphans, [], `round ${r}: a reservation without its lines, lines without their reservation, or a refusal with lines`);
        }

        // Every reservation still held is given back (a repeat is a no-op): nothing is held, stock is all that was added.
        for (const orderId of orderIds) {
          for (let t = 0; ; t++) {
            const res = await http(proc!.base, 'DELETE', `/internal/reservations/${orderId}`, { token: service }).catch(() => undefined);
            if (res && res.status !== 503) {
              assert.ok([200, 404].includes(res.status), res.text);
              break;
            }
            assert.ok(t < 50, `release of ${orderId} never answered`);
            await sleep(50);
          }
        }
        for (const [p, row] of (await books()).entries()) {
          assert.deepEqual(
            { stock: row.stock, held: Number(row.held) },
            { stock: plan.starts[p]! + Number(row.adjusted) + addedUnkeyed[p]!, held: 0 },
            `product ${p} (start ${plan.starts[p]}) after every release`,
          );
        }
      }),
      { numRuns: Number(process.env.HELD_FAULTS_RUNS ?? 15), endOnFailure: true },
    );
    console.log(`held-faults: ${JSON.stringify(counts)}`);
  });
});
