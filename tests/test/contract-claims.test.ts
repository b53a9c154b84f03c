// Claims of the public contract (shared API.md, docs/api.md) that no other test would see broken: each was checked
// by a unit test of the kit only, or by a test whose title said it and whose body did not. Here they meet the real
// processes (tests/src/platform.ts), every call through the gateway, nothing but HTTP and the processes' own logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { assertErrorAt, assertProblem, http, login, registerAccount, waitFor, type HttpResult } from '@ecommerce/test-support';
import { startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gw: string;
let admin: string;

before(
  async () => {
    // info: each answered request is a log line with its reqId and traceId (the request-id claim reads them).
    // More sign-ups than the default per-address budget (100 a minute): a customer per run of the properties below.
    platform = await startPlatform({ logLevel: 'info', serviceEnv: { user: { REGISTER_MAX_PER_ADDRESS: '1000' } } });
    gw = platform.procs.gateway.base;
    admin = await login(gw, platform.admin.email, platform.admin.password);
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
});

interface Line {
  productId: string;
  quantity: number;
  unitPriceCents: number | null;
  name?: string;
}
interface Order {
  id: string;
  status: string;
  items: Line[];
  totalCents: number | null;
}

async function product(input: Record<string, unknown> = {}): Promise<{ id: string; version: number }> {
  const res = await http<{ id: string; version: number }>(gw, 'POST', '/product', {
    token: admin,
    body: { sku: `CLAIM-${randomUUID()}`, name: 'Claim widget', priceCents: 250, stock: 5, ...input },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function customer(): Promise<string> {
  const account = await registerAccount(gw, { tag: 'claims' });
  return login(gw, account.email, account.password);
}

const place = (token: string, items: unknown[], key: string = randomUUID(), headers: Record<string, string> = {}) =>
  http<Order & { orderId?: string }>(gw, 'POST', '/order', { token, headers: { 'idempotency-key': key, ...headers }, body: { items } });

// API.md: POST /order fails 404 for an unknown product "(order recorded `rejected`)", 422 `mixed-currency` "(recorded
// `rejected`)"; "every problem of a recorded order (409, 404, 422 mixed-currency, 503) carries its orderId", "a replay
// of a rejected or failed order answers the same status code and body"; until a reservation (`pending`, `rejected`,
// `failed`) "`unitPriceCents` and `totalCents` are `null`" and lines of an order never confirmed have no `name`;
// `POST /order/:id/cancel` is 409 `not-cancellable` for such an order. order.test's 404 and 422 cases said "the order
// is rejected" and checked the status code only.
describe('when a placement is refused (unknown product, mixed currencies, short stock)', () => {
  it('then its problem names the recorded order, which reads rejected with no prices and no names, a replay answers the same, and it cannot be cancelled', async () => {
    const token = await customer();
    const usd = await product({ stock: 3 });
    const eur = await product({ currency: 'EUR', stock: 3 });
    const refusals: { what: string; items: unknown[]; status: number; slug: string }[] = [
      { what: 'unknown product', items: [{ productId: usd.id, quantity: 1 }, { productId: randomUUID(), quantity: 1 }], status: 404, slug: 'not-found' },
      { what: 'mixed currencies', items: [{ productId: usd.id, quantity: 1 }, { productId: eur.id, quantity: 2 }], status: 422, slug: 'mixed-currency' },
      { what: 'short stock', items: [{ productId: eur.id, quantity: 1 }, { productId: usd.id, quantity: 4 }], status: 409, slug: 'insufficient-stock' },
    ];
    for (const { what, items, status, slug } of refusals) {
      const key = randomUUID();
      const refused = await place(token, items, key);
      const problem = assertProblem(refused, status, slug);
      assert.equal(typeof problem.orderId, 'string', `${what}: the problem names no order: ${refused.text}`);
      const stored = await http<Order>(gw, 'GET', `/order/${String(problem.orderId)}`, { token });
      assert.equal(stored.status, 200, `${what}: ${stored.text}`);
      assert.equal(stored.body.status, 'rejected', what);
      assert.equal(stored.body.totalCents, null, `${what}: ${stored.text}`);
      assert.equal(stored.body.items.length, items.length, what);
      for (const line of stored.body.items) {
        assert.equal(line.unitPriceCents, null, `${what}: ${stored.text}`);
        assert.equal('name' in line, false, `${what}: a line never confirmed has no name: ${stored.text}`);
      }
      const replay = await place(token, items, key);
      assert.equal(replay.status, status, `${what}: ${replay.text}`);
      assert.deepEqual(replay.body, refused.body, `${what}: a replay answers the same body`);
      assertProblem(await http(gw, 'POST', `/order/${String(problem.orderId)}/cancel`, { token }), 409, 'not-cancellable');
    }
    // Nothing was taken by any of them.
    for (const p of [usd, eur]) assert.equal((await http<{ stock: number }>(gw, 'GET', `/product/${p.id}`)).body.stock, 3);
  });
});

// API.md: "`X-Request-Id` accepted or generated, echoed on the response, logged, and forwarded on service-to-service
// calls together with W3C `traceparent`"; docs/api.md: "a W3C `traceparent` sent by the caller is honoured". The kit's
// service client was unit-tested to send both when handed a context; whether the order service hands it the
// request's, and whether each process logs it, nothing checked: a support engineer given a request id finds every
// line of it, the product service's reservation included, only if this holds.
describe('when a client sends X-Request-Id and traceparent with an order', () => {
  it('then the gateway, the order service and the product service (its reservation call) each log the request under that id and trace', async () => {
    const token = await customer();
    const p = await product();
    const requestId = `claims-${randomUUID()}`;
    const traceId = randomBytes(16).toString('hex');
    const placed = await place(token, [{ productId: p.id, quantity: 1 }], randomUUID(), {
      'x-request-id': requestId,
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-00`,
    });
    assert.equal(placed.status, 201, placed.text);
    assert.equal(placed.headers.get('x-request-id'), requestId);
    // The new order's Location, a path of the gateway's too: read back through it as the same order.
    assert.equal(placed.headers.get('location'), `/order/${placed.body.id}`);
    assert.equal((await http<Order>(gw, 'GET', placed.headers.get('location')!, { token })).body.id, placed.body.id);
    assert.equal(placed.headers.get('traceresponse')?.split('-')[1], traceId, 'the caller trace id is honoured');
    const logged = (name: 'gateway' | 'order' | 'product', route: string) =>
      platform.procs[name].lines
        .filter((l) => l.includes(requestId))
        .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { reqId?: string; traceId?: string; route?: string; status?: number })
        .find((entry) => entry.route === route);
    const where = { gateway: '/order', order: '/order', product: '/internal/reservations' } as const;
    // The lines are written as the answers go out: wait for them, then say which process has none.
    await waitFor('the three request lines', async () => Object.entries(where).every(([name, route]) => logged(name as keyof typeof where, route)), 10_000).catch(() => undefined);
    for (const [name, route] of Object.entries(where)) {
      const entry = logged(name as keyof typeof where, route);
      assert.ok(entry, `${name} logged no ${route} request under X-Request-Id ${requestId}`);
      assert.equal(entry.reqId, requestId, `${name} ${route}`);
      assert.equal(entry.traceId, traceId, `${name} ${route}: the trace is carried on`);
      assert.equal(entry.status, 201, `${name} ${route}`);
    }
  });

  it('then without one, each answer carries a generated id, a different one each time', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await http(gw, 'GET', '/product?limit=1');
      const id = res.headers.get('x-request-id');
      assert.ok(id, 'a generated request id');
      ids.add(id);
    }
    assert.equal(ids.size, 3);
  });
});

// docs/api.md "caching": "every answer of a route that takes a token (`/user/me`, `/user/users`, orders, the admin and
// internal routes)" is `Cache-Control: no-store`. The kit's Authenticator sets it and its unit test shows that a route
// may set its own instead; no test looked at the real routes, successes included.
describe('when a route that takes a token answers with success', () => {
  it('then every such answer is Cache-Control: no-store, and a public read is not', async () => {
    const token = await customer();
    const p = await product({ stock: 10 });
    const placed = await place(token, [{ productId: p.id, quantity: 1 }]);
    assert.equal(placed.status, 201, placed.text);
    const calls: [string, string, string, unknown?][] = [
      ['GET', '/user/me', token],
      ['GET', '/user/users?limit=1', admin],
      ['GET', '/order', token],
      ['GET', `/order/${placed.body.id}`, token],
      ['POST', `/order/${placed.body.id}/cancel`, token],
      ['POST', '/product', admin, { sku: `NS-${randomUUID()}`, name: 'No store', priceCents: 1, stock: 1 }],
      ['PATCH', `/product/${p.id}`, admin, { name: 'Renamed' }],
      ['POST', `/product/${p.id}/stock`, admin, { delta: 1 }],
      ['DELETE', `/product/${p.id}`, admin],
    ];
    for (const [method, path, bearer, body] of calls) {
      const res = await http(gw, method, path, { token: bearer, ...(body === undefined ? {} : { body }) });
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
      assert.equal(res.headers.get('cache-control'), 'no-store', `${method} ${path}`);
    }
    const pub = await http(gw, 'GET', `/product/${(await product()).id}`);
    assert.equal(pub.status, 200);
    assert.notEqual(pub.headers.get('cache-control'), 'no-store', 'a public product read is left to its route');
  });
});

// API.md: list endpoints take "`?limit=` (1..100, default 20)" and answer `{ items, nextCursor }`. Default 20 was
// checked on `GET /product` only, `limit=101` on two of the four lists.
describe('when any list endpoint is asked for a page', () => {
  const lists = ['/product', '/product/categories', '/order', '/user/users'] as const;

  before(
    async () => {
      // More than 100 of each, so that every limit in 1..100 fills its page; the admin's lists see all.
      const buyer = await customer();
      const stocked = await product({ stock: 200 });
      const made = await Promise.all(Array.from({ length: 101 }, (_, i) => product({ category: `claims-${i}-${randomUUID()}` })));
      assert.equal(made.length, 101);
      for (let i = 0; i < 101; i++) assert.equal((await place(buyer, [{ productId: stocked.id, quantity: 1 }])).status, 201);
      const users = await http<{ items: unknown[] }>(gw, 'GET', '/user/users?limit=100', { token: admin });
      for (let i = users.body.items.length; i <= 100; i++) await registerAccount(gw, { tag: 'page' });
    },
    { timeout: 120_000 },
  );

  it('then without limit a page holds 20 and a cursor; limit n in 1..100 holds n; any other limit is a 400 at querystring/limit', async () => {
    for (const list of lists) {
      const page = await http<{ items: unknown[]; nextCursor: string | null }>(gw, 'GET', list, { token: admin });
      assert.equal(page.status, 200, `${list}: ${page.text}`);
      assert.equal(page.body.items.length, 20, `${list}: the default page`);
      assert.equal(typeof page.body.nextCursor, 'string', `${list}: more follow`);
    }
    const limit = fc.oneof(
      fc.integer({ min: 1, max: 100 }).map(String),
      fc.integer({ min: -1000, max: 0 }).map(String),
      fc.integer({ min: 101, max: 100_000 }).map(String),
      fc.constantFrom('', 'abc', '1.5', '20x', '1e1'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), limit, async (list, n) => {
        const res: HttpResult<{ items: unknown[]; nextCursor: string | null }> = await http(gw, 'GET', `${list}?limit=${n}`, { token: admin });
        if (/^\d+$/.test(n) && Number(n) >= 1 && Number(n) <= 100) {
          assert.equal(res.status, 200, `${list}?limit=${n}: ${res.text}`);
          assert.equal(res.body.items.length, Number(n), `${list}?limit=${n}`);
          assert.equal(typeof res.body.nextCursor, 'string', `${list}?limit=${n}`);
        } else {
          assertErrorAt(res, 'querystring/limit', `${list}?limit=${n}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});

// API.md: lists are "keyset pagination, no OFFSET": a client walking the pages while the list changes meets each
// item that was there all along exactly once. With OFFSET, an item archived on a page already read shifts the rest
// back (one is skipped), and an order placed meanwhile shifts the caller's newest-first list on (one comes twice).
// The pagination tests walked lists that stood still.
describe('when the list changes while a client walks its pages', () => {
  it('then every product there all along (and not archived) appears exactly once, none twice, whatever is added, archived or edited (renamed, repriced, restocked) between pages', async () => {
    const changeKinds = ['add', 'archive-seen', 'archive-unseen', 'edit-seen', 'edit-unseen', 'none'] as const;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.constantFrom(...changeKinds), { minLength: 12, maxLength: 12 }), async (limit, changes) => {
        const category = `walk-${randomUUID()}`;
        const initial: string[] = [];
        for (let i = 0; i < 9; i++) initial.push((await product({ category })).id);
        const seen: string[] = [];
        const archived = new Set<string>();
        let cursor: string | null = null;
        let step = 0;
        do {
          const q: string = `/product?category=${category}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page: HttpResult<{ items: { id: string }[]; nextCursor: string | null }> = await http(gw, 'GET', q);
          assert.equal(page.status, 200, page.text);
          seen.push(...page.body.items.map((p) => p.id));
          cursor = page.body.nextCursor;
          const change = changes[step++]; // each change once: adds for ever would walk for ever
          const archive = async (id: string | undefined) => {
            if (id === undefined || archived.has(id)) return;
            assert.equal((await http(gw, 'DELETE', `/product/${id}`, { token: admin })).status, 204);
            archived.add(id);
          };
          // An edit changes every column a list could be sorted by but the id (name, price, stock, updated_at, version):
          // a list keyed by any of them moves the product past the cursor (twice) or behind it (missed).
          const edit = async (id: string | undefined) => {
            if (id === undefined) return;
            assert.equal((await http(gw, 'PATCH', `/product/${id}`, { token: admin, body: { name: `Edited ${randomUUID()}`, priceCents: 1 + step } })).status, 200);
            assert.equal((await http(gw, 'POST', `/product/${id}/stock`, { token: admin, body: { delta: 1 } })).status, 200);
          };
          if (change === 'add') await product({ category });
          if (change === 'archive-seen') await archive(seen.find((id) => !archived.has(id)));
          if (change === 'archive-unseen') await archive(initial.find((id) => !seen.includes(id) && !archived.has(id)));
          if (change === 'edit-seen') await edit(seen.find((id) => !archived.has(id)));
          if (change === 'edit-unseen') await edit(initial.find((id) => !seen.includes(id) && !archived.has(id)));
          assert.ok(step <= 100, `still walking after ${step} pages: a cursor that does not move on`);
        } while (cursor);
        assert.equal(new Set(seen).size, seen.length, `an item came twice: ${seen.join(' ')}`);
        const missed = initial.filter((id) => !archived.has(id) && !seen.includes(id));
        assert.deepEqual(missed, [], `limit ${limit}, changes ${changes.join(',')}`);
      }),
      { numRuns: 12 },
    );
  });

  it("then a customer's orders, newest first, come each once and in order while new orders are placed between pages", async () => {
    const p = await product({ stock: 1000 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 10, maxLength: 10 }), async (limit, added) => {
        const token = await customer();
        const initial: string[] = [];
        for (let i = 0; i < 7; i++) initial.push((await place(token, [{ productId: p.id, quantity: 1 }])).body.id);
        const seen: string[] = [];
        let cursor: string | null = null;
        let step = 0;
        do {
          const q: string = `/order?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page: HttpResult<{ items: { id: string }[]; nextCursor: string | null }> = await http(gw, 'GET', q, { token });
          assert.equal(page.status, 200, page.text);
          seen.push(...page.body.items.map((o) => o.id));
          cursor = page.body.nextCursor;
          for (let i = 0; i < (added[step++] ?? 0); i++) assert.equal((await place(token, [{ productId: p.id, quantity: 1 }])).status, 201);
          assert.ok(step <= 100, `still walking after ${step} pages: a cursor that does not move on`);
        } while (cursor);
        assert.deepEqual(seen, [...initial].reverse(), `limit ${limit}: the walk is the orders there at its start, newest first`);
      }),
      { numRuns: 10 },
    );
  });
});
