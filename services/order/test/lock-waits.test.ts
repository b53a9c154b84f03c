// The order's own row held by another session (an operator's script, a long report) right after a placement wrote it
// pending, while the product service does not answer: the placement gives its drive lease back on the way out, and
// that write waits on the lock. The answer is 503 + Retry-After within about one reservation deadline, not after the
// 8 s statement timeout on top of it (with the default 2 s deadline, 10 s: the gateway's upstream timeout, a 504); the
// lease then runs out by itself, and the order is settled once the product service answers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@ecommerce/kit';
import { adminUrlOn, assertProblem, createCustomer, heldLocks, http, sql, type Running } from '@ecommerce/test-support';
import { startOrderService } from './harness.js';
import { db, startUserSideForFile, user } from './user-side.js';

startUserSideForFile();

let order: Running;
let fakeProduct: Server;
let locks: Promise<{ end(): Promise<void> }>[] = [];

describe('a placement whose order row another session holds', { timeout: 60_000 }, () => {
  before(async () => {
    // A product service that takes the placed order's row lock (as another session), then answers 503.
    fakeProduct = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = () => {
          res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
          res.end(JSON.stringify({ type: 'https://ecommerce.local/problems/service-unavailable', title: 'Service unavailable', status: 503 }));
        };
        if (req.method !== 'POST') return answer();
        const { orderId } = JSON.parse(Buffer.concat(chunks).toString()) as { orderId: string };
        const held = heldLocks(adminUrlOn(db), 'SELECT 1 FROM orders.orders WHERE id = $1 FOR UPDATE', [orderId]);
        locks.push(held);
        void held.then(answer, answer);
      });
    });
    await new Promise<void>((resolve) => fakeProduct.listen(0, '127.0.0.1', resolve));
    const { port } = fakeProduct.address() as { port: number };
    order = await startOrderService(db.urls.order, user.base, `http://127.0.0.1:${port}`, { RESERVATION_TIMEOUT_MS: '1000', RECONCILER_ENABLED: 'false' });
  });

  after(async () => {
    await Promise.all(locks.map(async (l) => (await l.catch(() => null))?.end().catch(() => undefined)));
    await order?.close();
    // Never made when the start failed before it: a promise of its close would never settle, and the runner reported
    // that pending promise instead of the start's own error (checked by a throw injected in the before hook).
    if (fakeProduct) await new Promise((resolve) => fakeProduct.close(resolve));
  });

  it('when the product service does not answer and the lease cannot be given back at once, then 503 + Retry-After within about a reservation deadline, and the order stays pending', async () => {
    const { token } = await createCustomer(user.base, 'lockwait');
    const key = randomUUID();
    const t0 = performance.now();
    const res = await http(order.base, 'POST', '/order', { token, body: { items: [{ productId: uuidv7(), quantity: 1 }] }, headers: { 'idempotency-key': key } });
    const ms = performance.now() - t0;
    assertProblem(res, 503);
    assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    // The reservation deadline (1 s) and at most the second the lease is waited for; not the 8 s statement timeout.
    assert.ok(ms < 3_500, `answered after ${Math.round(ms)} ms`);
    assert.equal(locks.length, 1, 'the product service was asked once');
    await (await locks[0]!).end();
    locks = [];
    const [row] = await sql<{ status: string }>(db.adminUrl.replace(/\/[^/]*$/, `/${db.name}`), 'SELECT status FROM orders.orders WHERE idempotency_key = $1', [key]);
    assert.equal(row?.status, 'pending');
  });
});
