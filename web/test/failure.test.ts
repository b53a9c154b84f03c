import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../src/api/client.js';
import { placeOrder } from '../src/checkout.js';
import { answeredWithError, failureText, failureWhy, problemRef } from '../src/failure.js';

const noWait = { delaysMs: [1, 1, 1, 1], sleep: async () => undefined };
const uuid = fc.uuid();
const path = fc.constantFrom('/order', '/order/0190a6b4-0000-7000-8000-000000000001', '/product/abc', '/user/users');

/** A 5xx body as the platform or a proxy gives one, and the id it gives to quote (none when it names none). */
const answered = fc.oneof(
  // The gateway's 503 and 504 (upstream-proxy.ts): the path as instance, no id in the body.
  fc.record({ status: fc.constantFrom(503, 504), instance: path, service: fc.constantFrom('order', 'product', 'user') }).map(({ status, instance, service }) => ({
    status,
    body: status === 504 ? { type: 'https://ecommerce.local/problems/upstream-timeout', title: 'Gateway timeout', status, detail: `The ${service} service did not answer in time`, instance } : { type: 'https://ecommerce.local/problems/service-unavailable', title: 'Service unavailable', status, detail: `The ${service} service is unavailable`, instance },
    bodyRef: undefined as string | undefined,
  })),
  // The kit's 500: its detail names the request id.
  fc.record({ status: fc.integer({ min: 500, max: 599 }), id: uuid }).map(({ status, id }) => ({ status, body: { type: 'https://ecommerce.local/problems/internal-error', title: 'Internal server error', status, detail: `An unexpected error occurred; quote request id ${id}`, instance: '/order' }, bodyRef: `request id ${id}` })),
  // A problem with a requestId member, or a urn:uuid instance.
  fc.record({ status: fc.integer({ min: 500, max: 599 }), id: uuid }).map(({ status, id }) => ({ status, body: { title: 'Bad Gateway', status, requestId: id }, bodyRef: `request id ${id}` })),
  fc.record({ status: fc.integer({ min: 500, max: 599 }), id: uuid }).map(({ status, id }) => ({ status, body: { title: 'Bad Gateway', status, instance: `urn:uuid:${id}` }, bodyRef: `request id ${id}` })),
  // A proxy's page, not a problem, or nothing.
  fc.record({ status: fc.integer({ min: 500, max: 599 }), body: fc.constantFrom('<html><body>502 Bad Gateway</body></html>', undefined) }).map(({ status, body }) => ({ status, body: body as unknown, bodyRef: undefined as string | undefined })),
);
const header = fc.option(uuid, { nil: null });

describe('a failure in words', () => {
  it('when the shop answered a 5xx, then a read says it as the rule does (a 504: did not answer in time; any other: had a problem, with its status), quoting the body\'s id, else the X-Request-Id, never that no answer came', () => {
    fc.assert(
      fc.property(answered, header, ({ status, body, bodyRef }, requestId) => {
        const ref = bodyRef ?? (requestId ? `request id ${requestId}` : undefined);
        const why = failureWhy(new ApiError(status, body as never, requestId));
        assert.equal(why, status === 504 ? `the shop did not answer in time${ref ? ` (${ref})` : ''}` : `the shop had a problem (error ${status}${ref ? `, ${ref}` : ''})`);
        assert.equal(problemRef(body, requestId), ref);
        assert.doesNotMatch(why!, /no answer came|could not be reached/);
      }),
    );
  });

  it('when Place order is answered 502, 503 (no order named) or 504 on every try, then it says at the time what a reload says of that answer (answeredWithError of what is kept), and what a read of it says', async () => {
    await fc.assert(
      fc.asyncProperty(answered, header, async ({ status, body }, requestId) => {
        const outcome = await placeOrder(async () => ({ status, body, requestId }), 'k', noWait);
        assert.equal(outcome.kind, 'unreachable');
        const { detail, answered: kept } = outcome as Extract<typeof outcome, { kind: 'unreachable' }>;
        assert.ok(kept);
        const reloaded = answeredWithError(kept.status, kept.ref);
        assert.equal(reloaded, failureWhy(new ApiError(status, body as never, requestId)), 'an order and a read say one answer alike');
        if (status === 502 || status === 503 || status === 504) assert.ok(detail.startsWith(reloaded.replace(/^the/, 'The')), `${detail} | ${reloaded}`);
        // The old page said a 504's "did not answer in time" at the time, and "had a problem (error 504)" after a reload.
        if (status === 504) assert.match(detail, /^The shop did not answer in time\b/);
      }),
      { numRuns: 200 },
    );
  });

  it('when no answer came, then it says so: a timeout did not answer in time, a network error could not be reached', () => {
    assert.equal(failureText(new DOMException('signal timed out', 'TimeoutError'), 'This product cannot be loaded right now'), 'This product cannot be loaded right now: the shop did not answer in time. Please try again in a moment.');
    assert.equal(failureText(new TypeError('Failed to fetch'), 'This order cannot be loaded right now', 'It is safe; please try again in a moment.'), 'This order cannot be loaded right now: the shop could not be reached, no answer came. It is safe; please try again in a moment.');
    // A 4xx: its problem says why, not this.
    assert.equal(failureWhy(new ApiError(409, { title: 'Conflict' })), undefined);
  });
});
