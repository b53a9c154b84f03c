// The statements of the reconciler's pass and of GET /order, planned over a shop's worth of orders: each reads an
// index, never the whole orders table. The orders table grows by every order ever placed, so a statement that scans
// it gets slower with the shop's age: the reconciler's claim did (a sequential scan of 2,000,000 orders took 700 ms,
// every 2 s, in every replica) until migration 007 gave it an index. Asserted on the plans (EXPLAIN of the exact
// statement the repository sends, with its parameters), not on timings.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Database } from '@ecommerce/kit';
import { assertNoSeqScan, createPlanningDatabase, planNodes, recordStatements, sql, type PlanNode, type SentStatement, type TestDatabase } from '@ecommerce/test-support';
import { OrderRepository } from '../src/data/order-repository.js';

/** Orders stored: enough that reading them all costs the planner more than any index does. */
const ORDERS = 30_000;
const CUSTOMERS = 300;

let db: TestDatabase;
let database: Database;
before(async () => {
  ({ db, database } = await createPlanningDatabase('order', new URL('../../migrations', import.meta.url).pathname));
  // A shop's history: almost every order final, one in a thousand in flight (a backlog after an outage), one
  // customer with a tenth of all orders; ids in time order as uuidv7 makes them.
  await sql(db.urls.order,
    `INSERT INTO orders.orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at, lease_until, created_at, updated_at)
     SELECT (lpad(to_hex(1700000000000 + i * 1000), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
       ('00000000-0000-7000-8000-' || lpad(to_hex(CASE WHEN i % 10 = 0 THEN 1 ELSE 2 + i % $2::int END), 12, '0'))::uuid,
       CASE WHEN i % 1000 = 1 THEN 'pending' WHEN i % 1000 = 2 THEN 'cancelling' WHEN i % 200 = 3 THEN 'failed'
            WHEN i % 50 = 7 THEN 'cancelled' ELSE 'confirmed' END,
       '[]', 'key-' || i, 'h', to_timestamp(1700000000 + i), NULL, to_timestamp(1700000000 + i), to_timestamp(1700000000 + i)
     FROM generate_series(1, $1::int) i`,
    [ORDERS, CUSTOMERS]);
  await sql(db.urls.order, 'ANALYZE orders.orders');
});
after(async () => {
  await database?.close();
  await db?.drop();
});

/** The (last) statement an OrderRepository call sends, recorded instead of run. */
async function statementOf(call: (orders: OrderRepository) => Promise<unknown>): Promise<SentStatement> {
  const sent = await recordStatements((recorder) => call(new OrderRepository(recorder as unknown as Database)));
  return sent[sent.length - 1]!;
}

const planOf = (statement: SentStatement): Promise<PlanNode[]> => planNodes(database, statement);
const assertNoScanOfOrders = (nodes: PlanNode[], what: string) => assertNoSeqScan(nodes, what, 'orders');

const user = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

describe('the orders statements at scale (plans over 30,000 orders)', () => {
  it('when the reconciler claims the orders it must drive, then the claim reads the index of orders in flight, not the whole table', async () => {
    const claim = await statementOf((o) => o.claimOverdue(50, 30_000));
    const nodes = await planOf(claim);
    assertNoScanOfOrders(nodes, 'the reconciler\'s claim');
    assert.ok(nodes.some((n) => n['Index Name'] === 'orders_in_flight_idx'), 'the claim reads orders_in_flight_idx');
  });

  it('when a customer or an admin lists orders (any customer, any cursor), then the page is read by an index', async () => {
    const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders ORDER BY id')).map((r) => r.id);
    await fc.assert(
      fc.asyncProperty(
        // null: the admin's list of every order; 1: the customer with a tenth of them; past CUSTOMERS: none at all.
        fc.option(fc.constantFrom(1, 2, 3 + CUSTOMERS, 5 + CUSTOMERS), { nil: null }),
        fc.option(fc.integer({ min: 0, max: ids.length - 1 }), { nil: null }),
        fc.integer({ min: 1, max: 100 }),
        async (customer, cursor, limit) => {
          const list = await statementOf((o) => o.list(customer === null ? null : user(customer), limit, cursor === null ? null : ids[cursor]!));
          assertNoScanOfOrders(await planOf(list), `the list of ${customer === null ? 'every order' : `customer ${customer}`}`);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('when an admin searches an order number (any number, alone or with a customer, any cursor), then an index bounds what is read (orders_number_idx, unless a near cursor or a customer bounds it more), never the whole table', async () => {
    const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders ORDER BY id')).map((r) => r.id);
    await fc.assert(
      fc.asyncProperty(
        // A stored order's number, or one no order has.
        fc.oneof(fc.integer({ min: 0, max: ids.length - 1 }).map((i) => ids[i]!.slice(-8)), fc.stringMatching(/^[0-9a-f]{8}$/)),
        fc.option(fc.constantFrom(1, 2, 5 + CUSTOMERS), { nil: null }),
        fc.option(fc.integer({ min: 0, max: ids.length - 1 }), { nil: null }),
        fc.integer({ min: 1, max: 100 }),
        async (number, customer, cursor, limit) => {
          const search = await statementOf((o) => o.listByNumber(number, customer === null ? null : user(customer), limit, cursor === null ? null : ids[cursor]!));
          const nodes = await planOf(search);
          const plan = nodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`).join(' > ');
          assertNoScanOfOrders(nodes, `the search of number ${number}`);
          // No index read whole either (a scan of the primary key filtered by the number is the table, in id order).
          const unbounded = nodes.filter((n) => n['Relation Name'] === 'orders' && n['Index Name'] !== undefined && n['Index Cond'] === undefined);
          assert.deepEqual(unbounded.map((n) => n['Index Name']), [], `the search of number ${number} reads an index whole: ${plan}`);
          // Only the number bounds it, or a cursor past the first thousand orders leaves a range as good as the whole
          // table: the number's index then. A cursor near the start (id < the 1st order's id: nothing) is a short
          // range of the primary key the planner rightly takes (it did, for ["00a0aaaa", null, 0, 1]); a customer's
          // orders are their own index's.
          if (customer === null && (cursor === null || cursor >= 1000)) assert.ok(nodes.some((n) => n['Index Name'] === 'orders_number_idx'), `the search reads orders_number_idx: ${plan}`);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('when the claim runs, then it takes every order in flight whose lease is free (given back or run out), and no other', async () => {
    await sql(db.urls.order, `UPDATE orders.orders SET lease_until = now() + interval '1 hour' WHERE id = (SELECT id FROM orders.orders WHERE status = 'pending' ORDER BY id LIMIT 1)`);
    await sql(db.urls.order, `UPDATE orders.orders SET lease_until = now() - interval '1 minute' WHERE id = (SELECT id FROM orders.orders WHERE status = 'cancelling' ORDER BY id LIMIT 1)`);
    const free = await sql<{ id: string }>(db.urls.order,
      `SELECT id FROM orders.orders WHERE status IN ('pending', 'cancelling') AND (lease_until IS NULL OR lease_until < now()) ORDER BY lease_until NULLS FIRST, updated_at`);
    const claimed = await new OrderRepository(database).claimOverdue(ORDERS, 30_000);
    assert.deepEqual(claimed.map((r) => r.id).sort(), free.map((r) => r.id).sort());
    assert.equal(free.length, 2 * (ORDERS / 1000) - 1, 'every order in flight but the one whose lease runs');
  });
});
