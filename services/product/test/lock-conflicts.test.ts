// Another session of the database (an operator's script, a hand-run fix, a job of some other tool) takes row locks of
// the catalog in its own order while a reservation takes them in product-id order, and PostgreSQL ends the deadlock by
// failing one of the two (SQLSTATE 40P01). When the reservation is that one, nothing of it was written (its
// transaction rolled back), and its caller may simply send it again: 503 problem+json with Retry-After, never a 500
// (a bug), and the retry reserves once.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import pg from 'pg';
import { uuidv7 } from '@ecommerce/kit';
import { adminUrlOn, assertProblem, heldLocks, http, sql, timed, type Timed } from '@ecommerce/test-support';
import { createProduct, getProduct, startStack, type Stack } from './stack.js';

let stack: Stack;
let dbUrl: string;

before(async () => {
  stack = await startStack();
  dbUrl = adminUrlOn(stack.db);
});
after(() => stack?.close());

const reserve = (orderId: string, items: { productId: string; quantity: number }[]) =>
  http(stack.base, 'POST', '/internal/reservations', { token: stack.tokens.service, body: { orderId, items } });

/** Resolves once a session of the product role waits on a lock (bounded). */
async function awaitLockWait(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [row] = await sql<{ n: number }>(dbUrl, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [stack.db.roles.product.role]);
    if (row!.n > 0) return;
    await sleep(50);
  }
  assert.fail('the reservation never waited on the lock');
}

describe('a reservation deadlocked with another session', { timeout: 60_000 }, () => {
  it('when PostgreSQL fails the reservation to end a deadlock (40P01), then 503 problem+json with Retry-After, nothing taken, and the retry reserves once', async () => {
    const [a, b] = (await Promise.all([createProduct(stack, { stock: 10 }), createProduct(stack, { stock: 10 })])).sort((x, y) => (x.id < y.id ? -1 : 1));
    const other = new pg.Client({ connectionString: dbUrl });
    await other.connect();
    const orderId = uuidv7();
    let answer: Awaited<ReturnType<typeof reserve>>;
    try {
      // The other session checks for a deadlock after the reservation does, so the reservation is the one failed.
      await other.query("SET deadlock_timeout = '10s'");
      await other.query('BEGIN');
      await other.query('UPDATE catalog.products SET stock = stock WHERE id = $1', [b!.id]);
      // The reservation locks a, then waits for b; the other session then asks for a: a cycle.
      const pending = reserve(orderId, [
        { productId: a!.id, quantity: 2 },
        { productId: b!.id, quantity: 3 },
      ]);
      await awaitLockWait();
      await other.query('UPDATE catalog.products SET stock = stock WHERE id = $1', [a!.id]);
      answer = await pending;
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    assertProblem(answer, 503, 'service-unavailable');
    assert.ok(Number(answer.headers.get('retry-after')) >= 1, `Retry-After ${answer.headers.get('retry-after')}`);
    assert.deepEqual([(await getProduct(stack, a!.id)).stock, (await getProduct(stack, b!.id)).stock], [10, 10], 'nothing taken');
    const retried = await reserve(orderId, [
      { productId: a!.id, quantity: 2 },
      { productId: b!.id, quantity: 3 },
    ]);
    assert.equal(retried.status, 201, retried.text);
    assert.deepEqual([(await getProduct(stack, a!.id)).stock, (await getProduct(stack, b!.id)).stock], [8, 7], 'taken once');
  });
});

describe('an admin write behind a product row another session holds locked', { timeout: 120_000 }, () => {
  type Write = 'patch' | 'stock' | 'stock-keyed' | 'archive';
  const write = (kind: Write, id: string, key: string) => {
    const token = stack.tokens.admin;
    if (kind === 'patch') return http(stack.base, 'PATCH', `/product/${id}`, { token, body: { name: 'Renamed behind a lock' } });
    if (kind === 'archive') return http(stack.base, 'DELETE', `/product/${id}`, { token });
    return http(stack.base, 'POST', `/product/${id}/stock`, { token, body: { delta: 5 }, ...(kind === 'stock-keyed' ? { headers: { 'idempotency-key': key } } : {}) });
  };

  it('when the row stays locked, then 503 problem+json with Retry-After within about 2 s (as a reservation), nothing changed, and the same write succeeds once the lock is gone; when it is released sooner, the write waits for it and succeeds', async () => {
    // A stuck admin transaction, a hand-run fix, a long migration: the write waited out the 8 s statement timeout
    // holding a pool connection, where a reservation on the same row gives up after 2 s (migration 016).
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Write>('patch', 'stock', 'stock-keyed', 'archive'), fc.option(fc.integer({ min: 200, max: 1_200 }), { nil: undefined }), async (kind, releaseAfterMs) => {
        const p = await createProduct(stack, { stock: 10 });
        const key = `lock-${uuidv7()}`;
        const lock = await heldLocks(dbUrl, 'SELECT * FROM catalog.products WHERE id = $1 FOR UPDATE', [p.id]);
        const started = performance.now();
        let answer: Awaited<ReturnType<typeof write>>;
        try {
          const pending = write(kind, p.id, key);
          await awaitLockWait();
          if (releaseAfterMs !== undefined) await sleep(releaseAfterMs).then(() => lock.end());
          answer = await pending;
        } finally {
          await lock.end().catch(() => undefined);
        }
        const ms = performance.now() - started;
        const expected = kind === 'archive' ? 204 : 200;
        if (releaseAfterMs !== undefined) {
          assert.equal(answer.status, expected, `${kind} released after ${releaseAfterMs} ms: ${answer.text}`);
        } else {
          assertProblem(answer, 503, 'service-unavailable');
          assert.ok(Number(answer.headers.get('retry-after')) >= 1, `Retry-After ${answer.headers.get('retry-after')}`);
          assert.ok(ms < 4_000, `${kind} answered after ${Math.round(ms)} ms`);
          assert.deepEqual(await getProduct(stack, p.id), p, `${kind}: nothing changed`);
          assert.equal((await write(kind, p.id, key)).status, expected, `${kind} sent again`);
        }
        if (kind === 'stock' || kind === 'stock-keyed') assert.equal((await getProduct(stack, p.id)).stock, 15, 'restocked once');
      }),
      // Each write held up to its answer at least once, then random ones.
      { numRuns: 10, examples: [['patch', undefined], ['stock', undefined], ['stock-keyed', undefined], ['archive', undefined]] },
    );
  });
});

describe('more writes than the pool holds, all behind one locked product row', { timeout: 120_000 }, () => {
  it('when releases, reservations and restocks of a locked product pile up past the pool (DB_POOL_MAX 10), then reads of other products are answered at once meanwhile, and each write answers its success once the lock is gone or 503 with nothing written: the stock is what the answers say', async () => {
    // Before: each write held a pooled connection for its 2 s lock timeout; with more of them than connections the
    // reads queued behind them in the pool (a read asked 100 ms in waited 2 s, and 503 once the pool's 5 s queue was
    // passed: services/order/test/db-limits.test.ts on a slow machine).
    const [locked, other] = await Promise.all([createProduct(stack, { stock: 100 }), createProduct(stack, { stock: 5 })]);
    const reserved = uuidv7();
    assert.equal((await reserve(reserved, [{ productId: locked.id, quantity: 1 }])).status, 201);
    const lock = await heldLocks(dbUrl, 'SELECT * FROM catalog.products WHERE id = $1 FOR UPDATE', [locked.id]);
    const writes: Promise<Timed<Awaited<ReturnType<typeof http>>>>[] = [];
    const reads: Promise<Timed<Awaited<ReturnType<typeof http>>>>[] = [];
    try {
      const token = stack.tokens.admin;
      writes.push(timed(() => http(stack.base, 'DELETE', `/internal/reservations/${reserved}`, { token: stack.tokens.service })));
      for (let i = 0; i < 8; i++) writes.push(timed(() => reserve(uuidv7(), [{ productId: locked.id, quantity: 1 }])));
      for (let i = 0; i < 15; i++) writes.push(timed(() => http(stack.base, 'POST', `/product/${locked.id}/stock`, { token, body: { delta: 1 } })));
      await awaitLockWait();
      for (let i = 0; i < 6; i++) {
        await sleep(250);
        reads.push(timed(() => http(stack.base, 'GET', `/product/${other.id}`)));
      }
      await Promise.all(reads);
    } finally {
      await lock.end();
    }
    const read = await Promise.all(reads);
    const written = await Promise.all(writes);
    for (const { res, ms } of read) {
      assert.equal(res.status, 200, res.text);
      assert.ok(ms < 1_000, `a read of another product answered after ${Math.round(ms)} ms behind the writes`);
    }
    for (const { res } of written) if (res.status !== 201 && res.status !== 200) assertProblem(res, 503, 'service-unavailable');
    const product = await getProduct(stack, locked.id);
    const restocked = written.slice(9).filter(({ res }) => res.status === 200).length;
    const reservedSince = written.slice(1, 9).filter(({ res }) => res.status === 201).length;
    const released = written[0]!.res.status === 200 ? 1 : 0;
    assert.equal(product.stock, 99 + released + restocked - reservedSince, 'the stock is what the answers say');
  });
});
