// Another session of the database (an operator's script, a hand-run fix, a job of some other tool) takes row locks of
// the catalog in its own order while a reservation takes them in product-id order, and PostgreSQL ends the deadlock by
// failing one of the two (SQLSTATE 40P01). When the reservation is that one, nothing of it was written (its
// transaction rolled back), and its caller may simply send it again: 503 problem+json with Retry-After, never a 500
// (a bug), and the retry reserves once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { uuidv7 } from '@ecommerce/kit';
import { assertProblem, http, sql } from '@ecommerce/test-support';
import { createProduct, getProduct, startStack, type Stack } from './stack.js';

let stack: Stack;
let dbUrl: string;

before(async () => {
  stack = await startStack();
  const url = new URL(stack.db.adminUrl);
  url.pathname = `/${stack.db.name}`;
  dbUrl = url.toString();
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
