// PostgreSQL limiting the services rather than going away: the services' roles at their CONNECTION LIMIT (a DBA's
// cap, or another job of the same role holding them), a product row locked by another session (a long migration, a
// stuck admin transaction) past the statement timeout, and server-side timeouts (ALTER DATABASE) far shorter than the
// services' own. Placements answer the final answer or 503 problem+json with Retry-After, in bounded time, never a
// 500 or a hang; readiness says so while it lasts; once the limit goes, everything recovers by itself, the pools
// are idle again (no connection leaked), every order ends final and stock = start - units of confirmed orders.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { adminUrlOn, assertProblem, createCustomer, createProduct, http, metricValue, sql, stopAll, timed, waitFor, type Running, type Timed } from '@ecommerce/test-support';
import { startProductService } from '@ecommerce/product-service/testing';
import { assertStockMatchesOrders, startOrderService } from './harness.js';
import { admin, db, startUserSideForFile, user } from './user-side.js';

interface Body {
  id?: string;
  status?: string | number;
  orderId?: string;
}

startUserSideForFile();

let product: Running;
let order: Running;
let buyer: string;

const place = (items: unknown, key: string) => http<Body>(order.base, 'POST', '/order', { token: buyer, body: { items }, headers: { 'idempotency-key': key } });

/**
 * Ends the services' own sessions in this file's database (their application_name; nothing else), from the server's
 * maintenance database, so that each opens a new one.
 */
async function endServiceSessions(): Promise<void> {
  await sql(db.adminUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name IN ('order-service', 'product-service')", [db.name]);
}

/** The services' pools: connections in use and requests waiting, summed over order and product. */
async function poolsBusy(...bases: string[]): Promise<number> {
  let busy = 0;
  for (const base of bases) {
    const text = (await http(base, 'GET', '/metrics')).text;
    busy += metricValue(text, 'db_client_connection_count', ['state="used"']) + metricValue(text, 'db_client_connection_pending_requests');
  }
  return busy;
}

/** A 503 problem+json with a Retry-After of at least a second. */
function assertUnavailable(res: { status: number; headers: Headers; text: string; body: unknown }, label: string): void {
  assert.equal(res.status, 503, `${label}: ${res.status} ${res.text}`);
  assertProblem(res as never, 503, 'service-unavailable');
  assert.ok(Number(res.headers.get('retry-after')) >= 1, `${label}: Retry-After ${res.headers.get('retry-after')}`);
}

/** Sends `send` until it answers something other than 503, as a client told Retry-After would (bounded). */
async function untilFinal(send: () => Promise<{ status: number; headers: Headers; text: string; body: Body }>, label: string) {
  for (let i = 0; ; i++) {
    const res = await send();
    if (res.status !== 503) return res;
    assertUnavailable(res, label);
    assert.ok(i < 60, `${label}: still 503 after ${i} retries: ${res.text}`);
    await sleep(250);
  }
}

/** Every order of `keys` final (none pending or cancelling), the books agreeing; the pools idle again. */
async function assertRecovered(productId: string, initial: number, keys: string[]): Promise<void> {
  const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders WHERE idempotency_key = ANY($1)', [keys])).map((r) => r.id);
  await waitFor('every order final', async () => {
    const [row] = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [ids]);
    return row!.n === 0;
  }, 30_000);
  await assertStockMatchesOrders(db, ids, product.base, productId, initial);
  await waitFor('the pools idle again (no connection leaked, nothing waiting)', async () => (await poolsBusy(order.base, product.base)) === 0, 10_000);
  for (const base of [order.base, product.base]) assert.equal((await http(base, 'GET', '/readyz')).status, 200, `${base} ready`);
}

describe('PostgreSQL limiting the services', { timeout: 240_000 }, () => {
  before(async () => {
    product = await startProductService(db.urls.product, user.base);
    order = await startOrderService(db.urls.order, user.base, product.base, { RESERVATION_TIMEOUT_MS: '1000', PENDING_DEADLINE_MS: '6000', RECONCILER_INTERVAL_MS: '200', DB_POOL_MAX: '4' });
    buyer = (await createCustomer(user.base, 'limits')).token;
  });
  after(() => stopAll(order, product));

  it('when both services\' roles are at their CONNECTION LIMIT (their sessions gone), then placements answer 503 + Retry-After within a second or two, readiness goes down, and once the limit is lifted everything recovers by itself with the books balanced', async () => {
    const p = await createProduct(product.base, admin, { stock: 50 });
    const keys: string[] = [];
    const roles = [db.roles.order.role, db.roles.product.role];
    try {
      for (const role of roles) await sql(db.adminUrl, `ALTER ROLE ${role} CONNECTION LIMIT 0`);
      // The services' own sessions in this file's database, ended so each has to open a new one (the limit counts them).
      await endServiceSessions();
      await sleep(100);
      const slowest = { ms: 0 };
      const answers = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const key = randomUUID();
          keys.push(key);
          const t0 = performance.now();
          const res = await place([{ productId: p.id, quantity: 1 }], key);
          slowest.ms = Math.max(slowest.ms, performance.now() - t0);
          return res;
        }),
      );
      for (const res of answers) assertUnavailable(res, 'a placement at the connection limit');
      assert.ok(slowest.ms < 2_500, `the slowest 503 took ${Math.round(slowest.ms)} ms`);
      for (const base of [order.base, product.base]) assert.equal((await http(base, 'GET', '/readyz')).status, 503, `${base} not ready at the limit`);
      assert.equal((await http(product.base, 'GET', `/product/${p.id}`)).status, 503, 'a read at the limit');
    } finally {
      for (const role of roles) await sql(db.adminUrl, `ALTER ROLE ${role} CONNECTION LIMIT -1`);
    }
    for (const key of keys) {
      const res = await untilFinal(() => place([{ productId: p.id, quantity: 1 }], key), 'the retry');
      assert.ok(res.status === 200 || res.status === 201, `the retry: ${res.status} ${res.text}`);
    }
    await assertRecovered(p.id, 50, keys);
  });

  it('when another session holds a product\'s row locked for 10 s (past the 8 s statement timeout) while orders for it stream in, then each placement answers 503 + Retry-After in bounded time, reads of other products are served meanwhile, and once the lock goes the pools are idle and the books balance', async () => {
    const p = await createProduct(product.base, admin, { stock: 100 });
    const other = await createProduct(product.base, admin, { stock: 5 });
    const keys: string[] = [];
    const locker = new pg.Client({ connectionString: adminUrlOn(db), application_name: 'db-limits-locker' });
    await locker.connect();
    const placements: Promise<Timed<Awaited<ReturnType<typeof place>>>>[] = [];
    const reads: Promise<Timed<Awaited<ReturnType<typeof http>>>>[] = [];
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM catalog.products WHERE id = $1 FOR UPDATE', [p.id]);
      // A placement every 250 ms and a read of the other product every 500 ms, for the 10 s the row stays locked.
      const lockedUntil = performance.now() + 10_000;
      for (let i = 0; performance.now() < lockedUntil; i++) {
        const key = randomUUID();
        keys.push(key);
        placements.push(timed(() => place([{ productId: p.id, quantity: 1 }], key)));
        if (i % 2 === 1) reads.push(timed(() => http(product.base, 'GET', `/product/${other.id}`)));
        await sleep(250);
      }
      // Still held to the end: the requests, not the lock, ended.
      await locker.query('SELECT 1');
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    const placed = await Promise.all(placements);
    const read = await Promise.all(reads);
    const slowest = (xs: { ms: number }[]) => Math.round(Math.max(...xs.map((x) => x.ms)));
    console.log(`# ${placed.length} placements behind the lock (slowest ${slowest(placed)} ms), ${read.length} reads of another product (slowest ${slowest(read)} ms, ${read.filter((r) => r.res.status !== 200).length} not 200)`);
    for (const { res, ms } of placed) {
      // The order's own answer: its call deadline passed; 201 once the lock went, for the last ones.
      if (res.status !== 201) assertUnavailable(res, 'a placement behind the lock');
      // Below the gateway's 10 s upstream timeout: the client hears 503 + Retry-After, not a gateway 504.
      assert.ok(ms < 9_500, `a placement answered after ${Math.round(ms)} ms`);
    }
    // Before: the calls behind the lock held the product pool 8 s each; every read waited 5 s for a connection, then 503.
    for (const { res, ms } of read) assert.equal(res.status, 200, `a read of another product behind the lock: ${res.status} after ${Math.round(ms)} ms ${res.text}`);
    for (const key of keys) {
      const res = await untilFinal(() => place([{ productId: p.id, quantity: 1 }], key), 'the retry');
      // The order's window may have passed meanwhile: a final answer either way (confirmed, or failed/expired).
      assert.ok([200, 201, 409, 422].includes(res.status), `the retry: ${res.status} ${res.text}`);
    }
    await assertRecovered(p.id, 100, keys);
  });

  it('when another session holds a product\'s row locked for 10 s while its confirmed orders are cancelled, then each cancel answers in bounded time, reads of other products are served meanwhile, and once the lock goes every order is cancelled with its stock back', async () => {
    const p = await createProduct(product.base, admin, { stock: 50 });
    const other = await createProduct(product.base, admin, { stock: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await place([{ productId: p.id, quantity: 2 }], randomUUID());
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id!);
    }
    const locker = new pg.Client({ connectionString: adminUrlOn(db), application_name: 'db-limits-locker' });
    await locker.connect();
    const reads: Promise<Timed<Awaited<ReturnType<typeof http>>>>[] = [];
    let cancels: Timed<Awaited<ReturnType<typeof http<Body>>>>[];
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM catalog.products WHERE id = $1 FOR UPDATE', [p.id]);
      const lockedUntil = performance.now() + 10_000;
      const cancelled = Promise.all(ids.map((id) => timed(() => http<Body>(order.base, 'POST', `/order/${id}/cancel`, { token: buyer }))));
      while (performance.now() < lockedUntil) {
        await sleep(500);
        reads.push(timed(() => http(product.base, 'GET', `/product/${other.id}`)));
      }
      cancels = await cancelled;
      await locker.query('SELECT 1');
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    const read = await Promise.all(reads);
    console.log(`# ${cancels.length} cancels behind the lock (slowest ${Math.round(Math.max(...cancels.map((c) => c.ms)))} ms), ${read.length} reads of another product (slowest ${Math.round(Math.max(...read.map((r) => r.ms)))} ms, ${read.filter((r) => r.res.status !== 200).length} not 200)`);
    for (const { res, ms } of cancels) {
      if (res.status !== 200) assertUnavailable(res, 'a cancel behind the lock');
      assert.ok(ms < 9_500, `a cancel answered after ${Math.round(ms)} ms`);
    }
    for (const { res, ms } of read) assert.equal(res.status, 200, `a read of another product behind the lock: ${res.status} after ${Math.round(ms)} ms ${res.text}`);
    await waitFor('every order cancelled', async () => {
      const [row] = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status <> 'cancelled'", [ids]);
      return row!.n === 0;
    }, 30_000);
    await assertStockMatchesOrders(db, ids, product.base, p.id, 50);
    await waitFor('the pools idle again (no connection leaked, nothing waiting)', async () => (await poolsBusy(order.base, product.base)) === 0, 10_000);
  });

  it('when the database sets statement_timeout and idle_in_transaction_session_timeout of 1 ms (ALTER DATABASE), then the services keep their own timeouts: placements are served as before', async () => {
    const p = await createProduct(product.base, admin, { stock: 30 });
    const keys: string[] = [];
    try {
      await sql(db.adminUrl, `ALTER DATABASE ${db.name} SET statement_timeout = '1ms'`);
      await sql(db.adminUrl, `ALTER DATABASE ${db.name} SET idle_in_transaction_session_timeout = '1ms'`);
      // New sessions read the database's settings: the services' current ones ended, so every pool reconnects.
      await endServiceSessions();
      await sleep(100);
      const answers = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const key = randomUUID();
          keys.push(key);
          return untilFinal(() => place([{ productId: p.id, quantity: 1 }], key), 'a placement');
        }),
      );
      for (const res of answers) assert.equal(res.status, 201, res.text);
      const plain = new pg.Client({ connectionString: adminUrlOn(db) });
      // The 1 ms timer can fire after a statement's answer, between statements: the server then sends the cancel as
      // an error of no statement, which pg emits as an 'error' event, and unheard it failed this test (CI, stop 45).
      // The services' connections have listeners for it (kit Database); this one says the same: the limit in force.
      const between: unknown[] = [];
      plain.on('error', (err) => between.push(err));
      await plain.connect();
      try {
        // SHOW itself runs under the 1 ms limit: on a busy machine it can be the statement cancelled (57014), which
        // says the same thing; it is asked again until it answers.
        // (Asked for up to 15 s: under a full run's load, 50 tries in a row were all cancelled once.)
        let shown: string | undefined;
        for (const until = Date.now() + 15_000; shown === undefined; ) {
          try {
            shown = (await plain.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout;
          } catch (err) {
            if ((err as { code?: string }).code !== '57014' || Date.now() > until) throw err;
          }
        }
        assert.equal(shown, '1ms', 'the database setting is in force for a session that does not set its own');
        for (const err of between) assert.equal((err as { code?: string }).code, '57014', String(err));
      } finally {
        await plain.end();
      }
    } finally {
      await sql(db.adminUrl, `ALTER DATABASE ${db.name} RESET statement_timeout`);
      await sql(db.adminUrl, `ALTER DATABASE ${db.name} RESET idle_in_transaction_session_timeout`);
    }
    await assertRecovered(p.id, 30, keys);
  });
});

describe('PostgreSQL ending the services\' sessions mid-transaction', { timeout: 240_000 }, () => {
  before(async () => {
    product = await startProductService(db.urls.product, user.base);
    order = await startOrderService(db.urls.order, user.base, product.base, { RESERVATION_TIMEOUT_MS: '400', PENDING_DEADLINE_MS: '5000', RECONCILER_INTERVAL_MS: '100', DB_POOL_MAX: '4' });
    buyer = (await createCustomer(user.base, 'terminated')).token;
  });
  after(() => stopAll(order, product));

  it('property: when fast-check picks the moments, the service (order, product, both) and the state of the sessions ended (in a transaction, running a statement, any), amid placements, cancels and the reconciler\'s passes, then every answer is final or 503 + Retry-After, every order ends final and the books balance', async () => {
    const apps = { order: ['order-service'], product: ['product-service'], both: ['order-service', 'product-service'] } as const;
    const states = { 'in a transaction': ['idle in transaction', 'idle in transaction (aborted)'], 'running a statement': ['active'], any: ['active', 'idle', 'idle in transaction', 'idle in transaction (aborted)'] } as const;
    const terminated: Record<keyof typeof states, number> = { 'in a transaction': 0, 'running a statement': 0, any: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          quantities: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 8 }),
          cancel: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
          // Each: when (ms into the window), whose sessions, in which state; every session matching at that moment.
          terminations: fc.array(
            fc.record({ atMs: fc.integer({ min: 0, max: 400 }), of: fc.constantFrom(...(Object.keys(apps) as (keyof typeof apps)[])), state: fc.constantFrom(...(Object.keys(states) as (keyof typeof states)[])) }),
            { minLength: 1, maxLength: 4 },
          ),
          // The product's row held by another session for a while at first: reservations and releases wait inside their
          // transaction (a statement running, its row locks taken), where a termination then finds them.
          lockMs: fc.option(fc.integer({ min: 50, max: 300 }), { nil: undefined }),
        }),
        async (plan) => {
          const p = await createProduct(product.base, admin, { stock: 40 });
          const keys = plan.quantities.map(() => randomUUID());
          const locker = plan.lockMs === undefined ? null : new pg.Client({ connectionString: adminUrlOn(db), application_name: 'db-limits-locker' });
          if (locker) {
            await locker.connect();
            await locker.query('BEGIN');
            await locker.query('SELECT id FROM catalog.products WHERE id = $1 FOR UPDATE', [p.id]);
          }
          const t0 = performance.now();
          const unlocked = (async () => {
            if (!locker) return;
            await sleep(plan.lockMs!);
            await locker.query('ROLLBACK');
            await locker.end();
          })();
          const placeAt = (i: number) => place([{ productId: p.id, quantity: plan.quantities[i]! }], keys[i]!);
          const work = (async () => {
            const placed = await Promise.all(keys.map((_, i) => placeAt(i)));
            const cancels = placed.map((res, i) =>
              plan.cancel[i] && res.status === 201 ? http<Body>(order.base, 'POST', `/order/${res.body.id}/cancel`, { token: buyer }) : null,
            );
            return { placed, cancelled: await Promise.all(cancels) };
          })();
          const ended = Promise.all(
            plan.terminations.map(async (t) => {
              await sleep(Math.max(0, t.atMs - (performance.now() - t0)));
              const [row] = await sql<{ n: number }>(
                db.adminUrl,
                'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = ANY($2::text[]) AND state = ANY($3::text[])',
                [db.name, apps[t.of], states[t.state]],
              );
              terminated[t.state] += row!.n;
            }),
          );
          const [{ placed, cancelled }] = await Promise.all([work, ended, unlocked]);
          for (const res of placed) if (res.status !== 201) assertUnavailable(res, 'a placement');
          for (const res of cancelled) if (res && res.status !== 200) assertUnavailable(res, 'a cancel');
          // The client's retries of placements answered 503 (same key), then the reconciler: every order final.
          for (const [i, res] of placed.entries()) {
            if (res.status === 201) continue;
            const retry = await untilFinal(() => placeAt(i), 'the retry');
            assert.ok([200, 201, 409, 422].includes(retry.status), `the retry: ${retry.status} ${retry.text}`);
          }
          const ids = (await sql<{ id: string }>(db.urls.order, 'SELECT id FROM orders.orders WHERE idempotency_key = ANY($1)', [keys])).map((r) => r.id);
          assert.equal(ids.length, keys.length, 'one order per key');
          await waitFor('every order final', async () => {
            const [row] = await sql<{ n: number }>(db.urls.order, "SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'cancelling')", [ids]);
            return row!.n === 0;
          }, 30_000);
          await assertStockMatchesOrders(db, ids, product.base, p.id, 40);
        },
      ),
      { numRuns: 15, endOnFailure: true },
    );
    console.log(`# sessions ended: ${JSON.stringify(terminated)}`);
    assert.ok(terminated['in a transaction'] + terminated['running a statement'] > 0, 'some sessions were ended mid-transaction or mid-statement');
    await waitFor('the pools idle again (no connection leaked, nothing waiting)', async () => (await poolsBusy(order.base, product.base)) === 0, 10_000);
  });
});
