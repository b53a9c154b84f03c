import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { withoutOrdered } from '../src/cart.js';
import { contentHash, newIdempotencyKey, placeOrder, type SendOrder } from '../src/checkout.js';

const noWait = { delaysMs: [1, 1, 1, 1], sleep: async () => undefined };

/** A send that plays back the given answers (an Error is a network failure) and records the keys it saw. */
function script(answers: ({ status: number; body: unknown } | Error)[]): { send: SendOrder; keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    send: async (key) => {
      keys.push(key);
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const order = { id: '0190a6b4-0000-7000-8000-000000000001', status: 'confirmed' };

describe('placing an order', () => {
  it('when the network fails and the service answers 503 before it succeeds, then every retry carries the same Idempotency-Key', async () => {
    const s = script([new TypeError('fetch failed'), { status: 503, body: { title: 'Service Unavailable' } }, new TypeError('fetch failed'), { status: 201, body: order }]);
    const key = newIdempotencyKey();
    const out = await placeOrder(s.send, key, noWait);
    assert.deepEqual(out, { kind: 'placed', order });
    assert.deepEqual(s.keys, [key, key, key, key]);
  });

  it('when a try gets no answer within its time (a TimeoutError), then it is said at once, not tried four more times, as an attempt that may have gone through (the key kept)', async () => {
    const s = script([new DOMException('signal timed out', 'TimeoutError'), { status: 201, body: order }]);
    const out = await placeOrder(s.send, 'k-timeout', noWait);
    assert.equal(out.kind, 'unreachable');
    assert.match((out as { detail: string }).detail, /did not answer in time\. The order may have gone through/);
    assert.deepEqual(s.keys, ['k-timeout']);
  });

  it('when a replay answers 200 (the first try was stored), then it is the same placed order', async () => {
    const s = script([new TypeError('socket hang up'), { status: 200, body: order }]);
    assert.deepEqual(await placeOrder(s.send, 'k1', noWait), { kind: 'placed', order });
  });

  it('when the gateway answers 504 (the order may have been placed), then it retries with the same key, and if 504 stays, the outcome keeps the key (unreachable), never a refusal that starts a new attempt', async () => {
    const placed = script([{ status: 504, body: { title: 'Gateway timeout' } }, { status: 200, body: order }]);
    assert.deepEqual(await placeOrder(placed.send, 'k504', noWait), { kind: 'placed', order });
    assert.deepEqual(placed.keys, ['k504', 'k504']);
    const stuck = script(Array.from({ length: 5 }, () => ({ status: 504, body: { title: 'Gateway timeout' } })));
    const outcome = await placeOrder(stuck.send, 'k505', noWait);
    assert.equal(outcome.kind, 'unreachable');
    assert.equal(stuck.keys.length, 5);
  });

  it('when the order service answers 503 with an orderId (recorded, in flight), then no retry: the outcome is pending with that id (its page polls it)', async () => {
    const body = { status: 503, type: 'https://ecommerce.local/problems/service-unavailable', orderId: order.id, orderStatus: 'pending' };
    const s = script(Array.from({ length: 5 }, () => ({ status: 503, body })));
    assert.deepEqual(await placeOrder(s.send, 'k2', noWait), { kind: 'pending', orderId: order.id });
    assert.deepEqual(s.keys, ['k2']);
    // After network errors or a 503 naming no order, the same key until one names it.
    const later = script([new TypeError('fetch failed'), { status: 503, body: { title: 'Service Unavailable' } }, { status: 503, body }]);
    assert.deepEqual(await placeOrder(later.send, 'k8', noWait), { kind: 'pending', orderId: order.id });
    assert.deepEqual(later.keys, ['k8', 'k8', 'k8']);
  });

  it('when every try ends without an answer that says what happened (a dropped connection, a 502 or 504: each may have reached the shop), then the page says the order may have gone through and pressing again finds it, never only "try again"', async () => {
    const lost = fc.constantFrom<(() => { status: number; body: unknown } | Error)>(
      () => new TypeError('fetch failed'),
      () => ({ status: 502, body: '<html>Bad Gateway</html>' }),
      () => ({ status: 504, body: { title: 'Gateway Timeout' } }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(lost, { minLength: 5, maxLength: 5 }), async (tries) => {
        const out = await placeOrder(script(tries.map((t) => t())).send, 'k-lost', noWait);
        assert.equal(out.kind, 'unreachable');
        assert.match((out as { detail: string }).detail, /The order may have gone through: press Place order again to find out \(it is never placed twice\)\./);
      }),
    );
  });

  it('when the network never comes back, then unreachable after the bounded retries (the caller keeps the key)', async () => {
    const s = script(Array.from({ length: 5 }, () => new TypeError('fetch failed')));
    assert.equal((await placeOrder(s.send, 'k3', noWait)).kind, 'unreachable');
    assert.equal(s.keys.length, 5);
  });

  it('when stock is short (409 insufficient-stock), then no retry, and the short items come back', async () => {
    const items = [{ productId: 'p1', requested: 5, available: 2 }];
    const s = script([{ status: 409, body: { type: 'https://ecommerce.local/problems/insufficient-stock', detail: 'Not enough stock', orderId: 'o1', items } }]);
    assert.deepEqual(await placeOrder(s.send, 'k4', noWait), { kind: 'short', orderId: 'o1', items, detail: 'Not enough stock' });
    assert.equal(s.keys.length, 1);
  });

  it('when a price moved meanwhile (409 price-changed), then no retry, and the moved lines come back', async () => {
    const items = [{ productId: 'p1', expectedUnitPriceCents: 1000, unitPriceCents: 1200, currency: 'USD' }];
    const s = script([{ status: 409, body: { type: 'https://ecommerce.local/problems/price-changed', detail: 'A price changed', orderId: 'o9', items } }]);
    assert.deepEqual(await placeOrder(s.send, 'k9', noWait), { kind: 'price-changed', items, detail: 'A price changed' });
    assert.equal(s.keys.length, 1);
  });

  it('when a product was archived since the last look (404 naming productIds), then no retry, and which products come back', async () => {
    const s = script([{ status: 404, body: { type: 'https://ecommerce.local/problems/not-found', detail: 'One or more products are unknown or archived; the order was recorded as rejected', orderId: 'o3', productIds: ['p1', 7] } }]);
    assert.deepEqual(await placeOrder(s.send, 'k10', noWait), { kind: 'gone', productIds: ['p1'], detail: 'One or more products are unknown or archived; the order was recorded as rejected' });
    assert.equal(s.keys.length, 1);
    // A 404 that names no product (a proxy's, a route not found) stays a refusal in its words.
    const bare = script([{ status: 404, body: { detail: 'Not found' } }]);
    assert.deepEqual(await placeOrder(bare.send, 'k11', noWait), { kind: 'refused', status: 404, detail: 'Not found' });
  });

  it('when the order was recorded as failed (409 order-failed after its deadline), then the outcome names that order', async () => {
    const s = script([{ status: 503, body: { title: 'Service Unavailable' } }, { status: 409, body: { type: 'https://ecommerce.local/problems/order-failed', detail: 'could not be reserved', orderId: 'o2' } }]);
    assert.deepEqual(await placeOrder(s.send, 'k7', noWait), { kind: 'failed', orderId: 'o2', detail: 'could not be reserved' });
    assert.deepEqual(s.keys, ['k7', 'k7']);
  });

  it('when the answer is a 500 (an unexpected error, maybe after the order was recorded), then no retry, and the outcome keeps the key (unreachable, may have gone through) in the words a reload says it (the shop had a problem, its request id); never a refusal that starts a new attempt', async () => {
    const s = script([{ status: 500, body: { title: 'Internal server error', status: 500, detail: 'An unexpected error occurred; quote request id req-7' } }]);
    assert.deepEqual(await placeOrder(s.send, 'k500', noWait), {
      kind: 'unreachable',
      detail: 'The shop had a problem (error 500, request id req-7). The order may have gone through: press Place order again to find out (it is never placed twice).',
      // An answer came (a reload says the shop had a problem, not that none came), and its id to quote.
      answered: { status: 500, ref: 'request id req-7' },
    });
    assert.deepEqual(s.keys, ['k500']);
    const page = script([{ status: 500, body: '<html><body>500</body></html>' }]);
    assert.match((await placeOrder(page.send, 'k501', noWait) as { detail: string }).detail, /^The shop had a problem \(error 500\)\. The order may have gone through/);
  });

  it('when the answer is another 4xx (401, 422), then no retry and its detail is shown', async () => {
    const s = script([{ status: 422, body: { detail: 'Items are priced in different currencies' } }]);
    assert.deepEqual(await placeOrder(s.send, 'k5', noWait), { kind: 'refused', status: 422, detail: 'Items are priced in different currencies' });
    // A 400 says which field and why, not only how many failed.
    const invalid = script([{ status: 400, body: { title: 'Validation failed', detail: '1 field(s) failed validation', errors: [{ path: '/items/0/quantity', message: 'must be <= 1000' }] } }]);
    assert.deepEqual(await placeOrder(invalid.send, 'k6', noWait), { kind: 'refused', status: 400, detail: 'Quantity must be <= 1000.' });
    assert.equal(s.keys.length, 1);
  });

  it('when a rate limit answers 429 (a proxy\'s HTML page, or a problem), then no retry, and it is said in words: not placed, the cart kept, try again later; never "HTTP 429"', async () => {
    const words = 'The shop is getting too many requests just now, so the order was not placed. Your cart is kept; please try again in a minute.';
    const page = script([{ status: 429, body: '<html><body><h1>429 Too Many Requests</h1><hr><center>nginx</center></body></html>' }]);
    assert.deepEqual(await placeOrder(page.send, 'k429', noWait), { kind: 'refused', status: 429, detail: words });
    assert.equal(page.keys.length, 1);
    const problem = script([{ status: 429, body: { type: 'https://ecommerce.local/problems/too-many-requests', title: 'Too many requests', status: 429, detail: 'Too many attempts, try again later' } }]);
    assert.deepEqual(await placeOrder(problem.send, 'k430', noWait), { kind: 'refused', status: 429, detail: words });
  });

  it('when another refusal is not a problem (a proxy\'s 403 or 413 page), then it is said in words with its number, not as "HTTP 403"', async () => {
    for (const status of [403, 413]) {
      const s = script([{ status, body: `<html><body>${status}</body></html>` }]);
      assert.deepEqual(await placeOrder(s.send, `k${status}`, noWait), {
        kind: 'refused',
        status,
        detail: `The shop could not take the order just now (error ${status}). Your cart is kept; please try again in a moment.`,
      });
    }
  });

  it('waits between tries as the policy says', async () => {
    const waits: number[] = [];
    const s = script([new TypeError('x'), new TypeError('x'), { status: 201, body: order }]);
    await placeOrder(s.send, 'k6', { delaysMs: [10, 20, 40], sleep: async (ms) => void waits.push(ms) });
    assert.deepEqual(waits, [10, 20]);
  });

  it('new keys are distinct UUIDs', () => {
    const keys = new Set(Array.from({ length: 100 }, newIdempotencyKey));
    assert.equal(keys.size, 100);
    for (const k of keys) assert.match(k, /^[0-9a-f-]{36}$/);
  });

  it('contentHash: the same cart content gives the same 16 hex digits; different contents differ (property)', () => {
    const cart = JSON.stringify([{ productId: 'a', quantity: 2 }]);
    assert.equal(contentHash(cart), contentHash(String(cart)));
    assert.match(contentHash(cart), /^[0-9a-f]{16}$/);
    assert.notEqual(contentHash(cart), contentHash(JSON.stringify([{ productId: 'a', quantity: 3 }])));
    fc.assert(fc.property(fc.string(), fc.string(), (x, y) => x === y || contentHash(x) !== contentHash(y)), { numRuns: 2000 });
  });

  it('when one order would hold more units of a product than the shop takes (422 quantity-limit), then the outcome names those products and the bound, not a bare refusal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ productId: fc.uuid(), requested: fc.integer({ min: 11, max: 1000 }), max: fc.constant(10) }), { minLength: 1, maxLength: 5 }), async (items) => {
        const s = script([{ status: 422, body: { type: 'https://ecommerce.local/problems/quantity-limit', title: 'Unprocessable entity', status: 422, detail: 'At most 10 units of one product per order', items } }]);
        const out = await placeOrder(s.send, 'k', noWait);
        assert.deepEqual(out, { kind: 'over-limit', items, detail: 'At most 10 units of one product per order' });
        assert.equal(s.keys.length, 1, 'not retried');
      }),
    );
  });

  it('withoutOrdered: the cart after an order holds, of each product, what it holds now less what was ordered; lines put in meanwhile stay whole, in their order (property)', () => {
    const line = fc.record({ productId: fc.constantFrom('a', 'b', 'c', 'd', 'e'), quantity: fc.integer({ min: 1, max: 1000 }), name: fc.string() });
    const cartOf = fc.uniqueArray(line, { selector: (l) => l.productId, maxLength: 5 });
    fc.assert(
      fc.property(cartOf, cartOf, (current, ordered) => {
        const left = withoutOrdered(current, ordered);
        const expected = current.flatMap((l) => {
          const q = l.quantity - (ordered.find((o) => o.productId === l.productId)?.quantity ?? 0);
          return q > 0 ? [{ ...l, quantity: q }] : [];
        });
        assert.deepEqual(left, expected);
      }),
    );
    // The cart as it was ordered: nothing left. A line added meanwhile: it alone is left.
    const a = { productId: 'a', quantity: 2, name: 'A' };
    const b = { productId: 'b', quantity: 1, name: 'B' };
    assert.deepEqual(withoutOrdered([a], [a]), []);
    assert.deepEqual(withoutOrdered([a, b], [a]), [b]);
    assert.deepEqual(withoutOrdered([{ ...a, quantity: 5 }], [a]), [{ ...a, quantity: 3 }]);
  });
});
