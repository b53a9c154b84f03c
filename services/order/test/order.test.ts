import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CONTROL_CHARACTER_KEYS, ORDER_CLIENT, adminToken, assertMethodNotAllowed, assertProblem, createCustomer, createProduct, http, rawKeyedPost, sql, stockOf, stopAll, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startProductAndOrder } from './harness.js';

interface Order {
  id: string;
  userId: string;
  status: string;
  items: { productId: string; quantity: number; unitPriceCents: number | null; name?: string }[];
  totalCents: number | null;
  currency: string;
  createdAt: string;
  updatedAt: string;
}
type Problem = { type: string; status: number; detail: string; errors?: { path: string }[]; items?: { productId: string; requested: number; available: number }[]; orderId?: string };

let db: TestDatabase;
let user: Running;
let product: Running;
let order: Running;
let admin: string;

before(async () => {
  ({ db, user } = await startUserStack());
  ({ product, order } = await startProductAndOrder(db, user.base, { RECONCILER_ENABLED: 'false' }));
  admin = await adminToken(user.base);
});
after(() => stopAll(order, product, user, db));

function place(token: string, items: unknown, key: string | null = randomUUID()) {
  return http<Order & Problem>(order.base, 'POST', '/order', { token, body: { items }, headers: key === null ? {} : { 'idempotency-key': key } });
}
/** A POST whose Idempotency-Key is sent as one header line per key (fetch would join them into one line). */
function twoLines(url: string, token: string, keys: string[], body: unknown): Promise<{ status: number; headers: Headers; body: Problem }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': keys } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body: JSON.parse(text) as Problem }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
function problem(res: { status: number; headers: Headers; body: unknown; text?: string }, status: number, slug?: string): Problem {
  return assertProblem(res, status, slug) as unknown as Problem;
}

describe('POST /order', () => {
  it('when stock suffices, then 201 confirmed with prices from the product service and the right total; stock is taken', async () => {
    const buyer = await createCustomer(user.base);
    const a = await createProduct(product.base, admin, { stock: 10, priceCents: 1250 });
    const b = await createProduct(product.base, admin, { stock: 5, priceCents: 399 });
    const res = await place(buyer.token, [{ productId: a.id, quantity: 2 }, { productId: b.id, quantity: 3 }]);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, 'confirmed');
    assert.equal(res.body.userId, buyer.id);
    assert.deepEqual(res.body.items, [
      { productId: a.id, quantity: 2, unitPriceCents: 1250, name: a.name },
      { productId: b.id, quantity: 3, unitPriceCents: 399, name: b.name },
    ]);
    assert.equal(res.body.totalCents, 2 * 1250 + 3 * 399);
    assert.equal(res.body.currency, 'USD');
    assert.equal(await stockOf(product.base, a.id), 8);
    assert.equal(await stockOf(product.base, b.id), 2);
  });

  it('when a product id is sent in upper case, then the order names it as the catalog does (lower case), and a replay in either case is the same order', async () => {
    const buyer = await createCustomer(user.base);
    const a = await createProduct(product.base, admin, { stock: 10, priceCents: 100 });
    const key = randomUUID();
    const res = await place(buyer.token, [{ productId: a.id.toUpperCase(), quantity: 1 }], key);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.items.map((i: { productId: string }) => i.productId), [a.id]);
    const replay = await place(buyer.token, [{ productId: a.id, quantity: 1 }], key);
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.body.id, res.body.id);
  });

  it('when the product is renamed and then archived after the order, then the order still names what was bought', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10, priceCents: 700 });
    const placed = await place(buyer.token, [{ productId: p.id, quantity: 1 }]);
    assert.equal(placed.status, 201, placed.text);
    assert.equal(placed.body.items[0]!.name, p.name);
    const renamed = await http(product.base, 'PATCH', `/product/${p.id}`, { token: admin, body: { name: `${p.name}, new look` } });
    assert.equal(renamed.status, 200, renamed.text);
    const archived = await http(product.base, 'DELETE', `/product/${p.id}`, { token: admin });
    assert.ok(archived.status === 200 || archived.status === 204, archived.text);
    assert.equal((await http(product.base, 'GET', `/product/${p.id}`)).status, 404, 'the product is no longer sold');
    const read = await http<Order>(order.base, 'GET', `/order/${placed.body.id}`, { token: buyer.token });
    assert.equal(read.body.items[0]!.name, p.name);
    const listed = await http<{ items: Order[] }>(order.base, 'GET', '/order', { token: buyer.token });
    assert.equal(listed.body.items.find((o) => o.id === placed.body.id)?.items[0]!.name, p.name);
    // A cancel keeps it too.
    const cancelled = await http<Order>(order.base, 'POST', `/order/${placed.body.id}/cancel`, { token: buyer.token });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.items[0]!.name, p.name);
  });

  it('when the same key and body are replayed, then 200 with the same order and nothing is taken twice; another body -> 422', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10 });
    const key = randomUUID();
    const first = await place(buyer.token, [{ productId: p.id, quantity: 4 }], key);
    assert.equal(first.status, 201);
    // The new order's address (Location), read back as the same order; a replay creates nothing and names none.
    assert.equal(first.headers.get('location'), `/order/${first.body.id}`);
    assert.deepEqual((await http<Order>(order.base, 'GET', first.headers.get('location')!, { token: buyer.token })).body, first.body);
    const again = await place(buyer.token, [{ productId: p.id, quantity: 4 }], key);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('location'), null);
    assert.deepEqual(again.body, first.body);
    assert.equal(await stockOf(product.base, p.id), 6);
    problem(await place(buyer.token, [{ productId: p.id, quantity: 5 }], key), 422, 'idempotency-key-reused');
    // the key is per user: another user may use the same key
    const other = await createCustomer(user.base);
    assert.equal((await place(other.token, [{ productId: p.id, quantity: 1 }], key)).status, 201);
  });

  it('when the Idempotency-Key header comes twice (a retry that appended its key to the first), then 400 and no second order', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10 });
    const key = randomUUID();
    assert.equal((await place(buyer.token, [{ productId: p.id, quantity: 1 }], key)).status, 201);
    // Node joins the lines of an unknown header with ", ": "<key>, <key>" was a key of its own, so a retry whose
    // client appended the header again was placed as a second order, charged and stock taken twice.
    for (const twice of [[key, key], [key, randomUUID()], ['', key]]) {
      const res = await twoLines(`${order.base}/order`, buyer.token, twice, { items: [{ productId: p.id, quantity: 1 }] });
      problem(res, 400, 'validation-failed');
      assert.deepEqual(res.body.errors?.map((e) => e.path), ['headers/idempotency-key']);
    }
    assert.equal(await stockOf(product.base, p.id), 9, 'one order, one unit');
    const listed = await http<{ items: Order[] }>(order.base, 'GET', '/order', { token: buyer.token });
    assert.equal(listed.body.items.length, 1);
    // One key with a comma in it is one key.
    assert.equal((await place(buyer.token, [{ productId: p.id, quantity: 1 }], `${key}, ${key}`)).status, 201);
  });

  it('when concurrent requests share one key, then one order is created and stock is taken once', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 100 });
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => place(buyer.token, [{ productId: p.id, quantity: 3 }], key)));
    const ids = new Set(results.filter((r) => r.status < 300).map((r) => r.body.id));
    assert.equal(ids.size, 1);
    assert.ok(results.every((r) => r.status === 200 || r.status === 201 || r.status === 503), results.map((r) => r.status).join(','));
    assert.equal(await stockOf(product.base, p.id), 97);
  });

  it('when stock is short, then 409 insufficient-stock with per-item detail, the order is recorded rejected and nothing is taken', async () => {
    const buyer = await createCustomer(user.base);
    const a = await createProduct(product.base, admin, { stock: 10 });
    const b = await createProduct(product.base, admin, { stock: 1 });
    const res = await place(buyer.token, [{ productId: a.id, quantity: 2 }, { productId: b.id, quantity: 2 }]);
    const p = problem(res, 409, 'insufficient-stock');
    assert.deepEqual(p.items, [{ productId: b.id, requested: 2, available: 1 }]);
    assert.ok(p.orderId);
    assert.equal(await stockOf(product.base, a.id), 10);
    assert.equal(await stockOf(product.base, b.id), 1);
    const stored = await http<Order>(order.base, 'GET', `/order/${p.orderId}`, { token: buyer.token });
    assert.equal(stored.body.status, 'rejected');
  });

  it('when the items are priced in different currencies, then 422 mixed-currency, the order is rejected and nothing is taken', async () => {
    const buyer = await createCustomer(user.base);
    const usd = await createProduct(product.base, admin, { stock: 5 });
    const eur = await http<{ id: string }>(product.base, 'POST', '/product', { token: admin, body: { sku: `EUR-${randomUUID()}`, name: 'Euro item', priceCents: 900, currency: 'EUR', stock: 5 } });
    assert.equal(eur.status, 201, eur.text);
    problem(await place(buyer.token, [{ productId: usd.id, quantity: 1 }, { productId: eur.body.id, quantity: 1 }]), 422, 'mixed-currency');
    assert.equal(await stockOf(product.base, usd.id), 5);
    assert.equal(await stockOf(product.base, eur.body.id), 5);
  });

  it('when the expected prices hold, then 201 at those prices; when one changed, then 409 price-changed, the order is rejected, nothing taken, and replays answer the same', async () => {
    const buyer = await createCustomer(user.base);
    const a = await createProduct(product.base, admin, { stock: 5, priceCents: 1200 });
    const b = await createProduct(product.base, admin, { stock: 5, priceCents: 300 });
    const ok = await place(buyer.token, [{ productId: a.id, quantity: 1, expectedUnitPriceCents: 1200, expectedCurrency: 'USD' }, { productId: b.id, quantity: 2, expectedUnitPriceCents: 300 }]);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.totalCents, 1800);
    assert.deepEqual(Object.keys(ok.body.items[0]!).sort(), ['name', 'productId', 'quantity', 'unitPriceCents']);

    assert.equal((await http(product.base, 'PATCH', `/product/${b.id}`, { token: admin, body: { priceCents: 350 } })).status, 200);
    const key = randomUUID();
    const lines = [{ productId: a.id, quantity: 1, expectedUnitPriceCents: 1200 }, { productId: b.id, quantity: 2, expectedUnitPriceCents: 300 }];
    const refused = problem(await place(buyer.token, lines, key), 409, 'price-changed');
    assert.deepEqual((refused as unknown as { items: unknown }).items, [{ productId: b.id, expectedUnitPriceCents: 300, unitPriceCents: 350, currency: 'USD' }]);
    assert.equal(await stockOf(product.base, a.id), 4);
    assert.equal(await stockOf(product.base, b.id), 3);
    const stored = await http<Order>(order.base, 'GET', `/order/${refused.orderId}`, { token: buyer.token });
    assert.equal(stored.body.status, 'rejected');
    // The same key and body: the same answer. The same key with the new price: another request, 422.
    const replay = problem(await place(buyer.token, lines, key), 409, 'price-changed');
    assert.equal(replay.orderId, refused.orderId);
    problem(await place(buyer.token, [lines[0], { ...lines[1], expectedUnitPriceCents: 350 }], key), 422, 'idempotency-key-reused');
    // Under a new key, with the price the customer now sees, it goes through.
    const again = await place(buyer.token, [lines[0], { ...lines[1], expectedUnitPriceCents: 350 }]);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.totalCents, 1200 + 700);
  });

  it('when an expectation is malformed, then 400 and no order is recorded', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 5 });
    for (const bad of [{ expectedUnitPriceCents: -5 }, { expectedUnitPriceCents: 2.5 }, { expectedCurrency: 'us' }, { unitPriceCents: 1 }]) {
      problem(await place(buyer.token, [{ productId: p.id, quantity: 1, ...bad }]), 400, 'validation-failed');
    }
    // A currency in other letters than three capitals is said in words, as the product's own currency is, not as a
    // regular expression (the storefront and the admin show the message as it comes).
    for (const currency of ['usd', 'Usd', 'U$D', 'ÉUR', 'us']) {
      const p400 = problem(await place(buyer.token, [{ productId: p.id, quantity: 1, expectedCurrency: currency }]), 400, 'validation-failed') as { errors?: { path: string; message: string }[] };
      assert.deepEqual(p400.errors, [{ path: '/items/0/expectedCurrency', message: 'must be a currency code such as USD' }], currency);
    }
    const mine = await http<{ items: Order[] }>(order.base, 'GET', '/order', { token: buyer.token });
    assert.equal(mine.body.items.length, 0);
    assert.equal(await stockOf(product.base, p.id), 5);
  });

  it('when a product does not exist, then 404 and the order is rejected', async () => {
    const buyer = await createCustomer(user.base);
    const res = await place(buyer.token, [{ productId: randomUUID(), quantity: 1 }]);
    problem(res, 404);
  });

  it('when the body or headers are invalid, then 400 with paths; prices from the client are refused', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10 });
    const cases: [unknown, string][] = [
      [[], '/items'],
      [Array.from({ length: 51 }, () => ({ productId: p.id, quantity: 1 })), '/items'],
      [[{ productId: p.id, quantity: 0 }], '/items/0/quantity'],
      [[{ productId: p.id, quantity: 1001 }], '/items/0/quantity'],
      [[{ productId: p.id, quantity: '2' }], '/items/0/quantity'],
      [[{ productId: p.id, quantity: 1.5 }], '/items/0/quantity'],
      [[{ productId: 'not-a-uuid', quantity: 1 }], '/items/0/productId'],
      [[{ productId: `${p.id}' OR 1=1 --`, quantity: 1 }], '/items/0/productId'],
      [[{ productId: p.id, quantity: 1, unitPriceCents: 1 }], '/items/0/unitPriceCents'],
    ];
    for (const [items, path] of cases) {
      const res = problem(await place(buyer.token, items), 400, 'validation-failed');
      assert.ok(res.errors?.some((e) => e.path === path), `${JSON.stringify(items).slice(0, 80)} -> ${JSON.stringify(res.errors)}`);
    }
    const extra = await http(order.base, 'POST', '/order', { token: buyer.token, body: { items: [{ productId: p.id, quantity: 1 }], totalCents: 1 }, headers: { 'idempotency-key': randomUUID() } });
    problem(extra, 400);
    const noKey = problem(await place(buyer.token, [{ productId: p.id, quantity: 1 }], null), 400);
    assert.ok(noKey.errors?.some((e) => e.path.includes('idempotency-key')));
    problem(await place(buyer.token, [{ productId: p.id, quantity: 1 }], 'k'.repeat(256)), 400);
    for (const key of CONTROL_CHARACTER_KEYS) {
      assert.match(await rawKeyedPost(order.base, '/order', key, { items: [{ productId: p.id, quantity: 1 }] }, buyer.token), /^HTTP\/1\.1 400 [\s\S]*content-type: application\/problem\+json/i, JSON.stringify(key));
    }
    assert.equal(await stockOf(product.base, p.id), 10);
    assert.equal((await http<{ items: Order[] }>(order.base, 'GET', '/order', { token: buyer.token })).body.items.length, 0);
  });

  it('when there is no valid user token, then 401; a service token is refused too', async () => {
    const p = await createProduct(product.base, admin, { stock: 10 });
    problem(await http(order.base, 'POST', '/order', { body: { items: [{ productId: p.id, quantity: 1 }] }, headers: { 'idempotency-key': 'x' } }), 401);
    const svc = await http<{ access_token: string }>(user.base, 'POST', '/user/oauth/token', { body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret } });
    problem(await place(svc.body.access_token, [{ productId: p.id, quantity: 1 }]), 401);
    problem(await http(order.base, 'GET', '/order', { token: svc.body.access_token }), 401);
  });
});

describe('reading orders', () => {
  it('when users read orders, then they see only their own (404 for others), admins see all and can filter', async () => {
    const alice = await createCustomer(user.base);
    const bob = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 50 });
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await place(alice.token, [{ productId: p.id, quantity: 1 }])).body.id);
    const bobs = (await place(bob.token, [{ productId: p.id, quantity: 1 }])).body.id;

    problem(await http(order.base, 'GET', `/order/${bobs}`, { token: alice.token }), 404);
    problem(await http(order.base, 'GET', `/order/${randomUUID()}`, { token: alice.token }), 404);
    problem(await http(order.base, 'GET', '/order/not-a-uuid', { token: alice.token }), 404);
    assert.equal((await http(order.base, 'GET', `/order/${bobs}`, { token: admin })).status, 200);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await http<{ items: Order[]; nextCursor: string | null }>(order.base, 'GET', `/order${q}`, { token: alice.token });
      assert.equal(page.status, 200);
      seen.push(...page.body.items.map((o) => o.id));
      assert.ok(page.body.items.every((o) => o.userId === alice.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...mine].reverse());

    problem(await http(order.base, 'GET', `/order?userId=${bob.id}`, { token: alice.token }), 403);
    problem(await http(order.base, 'GET', `/order?userId=${bob.id.toUpperCase()}`, { token: alice.token }), 403);
    // Her own id, in capitals: still hers.
    const mineUpper = await http<{ items: Order[] }>(order.base, 'GET', `/order?userId=${alice.id.toUpperCase()}&limit=100`, { token: alice.token });
    assert.equal(mineUpper.status, 200, mineUpper.text);
    assert.equal(mineUpper.body.items.length, mine.length);
    const filtered = await http<{ items: Order[] }>(order.base, 'GET', `/order?userId=${bob.id}`, { token: admin });
    assert.deepEqual(filtered.body.items.map((o) => o.id), [bobs]);
    const all = await http<{ items: Order[] }>(order.base, 'GET', '/order?limit=100', { token: admin });
    assert.ok(all.body.items.some((o) => o.userId === alice.id) && all.body.items.some((o) => o.userId === bob.id));
    problem(await http(order.base, 'GET', '/order?limit=0', { token: alice.token }), 400);
    problem(await http(order.base, 'GET', '/order?cursor=zzz', { token: alice.token }), 400);
  });
});

describe('GET /order?number= (admin: the order number the shop shows)', () => {
  it('when an admin searches the 8-character number (any case), then the orders ending in it, newest first; a customer 403, no token 401, a malformed number 400', async () => {
    const buyer = await createCustomer(user.base);
    const other = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10 });
    const placed = await place(buyer.token, [{ productId: p.id, quantity: 1 }]);
    assert.equal(placed.status, 201, placed.text);
    const number = placed.body.id.slice(-8);
    const list = (q: string, token?: string) => http<{ items: Order[]; nextCursor: string | null } & Problem>(order.base, 'GET', `/order?${q}`, token ? { token } : {});

    for (const n of [number, number.toUpperCase()]) {
      const found = await list(`number=${n}`, admin);
      assert.equal(found.status, 200, found.text);
      assert.deepEqual(found.body.items.map((o) => o.id), [placed.body.id]);
    }
    // Another customer's order whose id ends alike (a collision of the 32 random bits: rare, never impossible), newer.
    const twin = `ffffffff-ffff-7fff-8fff-ffff${number}`;
    await sql(db.urls.order,
      `INSERT INTO orders.orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at)
       VALUES ($1, $2, 'rejected', '[]', 'twin', 'h', now())`, [twin, other.id]);
    assert.deepEqual((await list(`number=${number}`, admin)).body.items.map((o) => o.id), [twin, placed.body.id]);
    assert.deepEqual((await list(`number=${number}&userId=${buyer.id}`, admin)).body.items.map((o) => o.id), [placed.body.id]);
    const first = await list(`number=${number}&limit=1`, admin);
    assert.deepEqual(first.body.items.map((o) => o.id), [twin]);
    assert.deepEqual((await list(`number=${number}&limit=1&cursor=${encodeURIComponent(first.body.nextCursor!)}`, admin)).body.items.map((o) => o.id), [placed.body.id]);
    // A number no order has: none; another part of an id (its first 8 digits): none, the number is the id's end.
    const unknown = (number[0] === '0' ? '1' : '0') + number.slice(1);
    assert.deepEqual((await list(`number=${unknown}&userId=${buyer.id}`, admin)).body.items, []);
    assert.deepEqual((await list(`number=${placed.body.id.slice(0, 8)}&userId=${buyer.id}`, admin)).body.items, []);

    problem(await list(`number=${number}`, buyer.token), 403);
    problem(await list(`number=${number}`), 401);
    for (const bad of [number.slice(1), `${number}0`, 'ghijklmn', '%25%25%25%25%25%25%25%25', placed.body.id, '', `${number}&number=${number}`, "1'--;abc"]) {
      const res = problem(await list(`number=${encodeURIComponent(bad).replace('%26number%3D', '&number=')}`, admin), 400);
      assert.ok(res.errors?.some((e) => e.path.startsWith('querystring/number')), `${bad}: ${JSON.stringify(res)}`);
    }
  });
});

describe('POST /order/:id/cancel', () => {
  it('when the owner cancels a confirmed order, then 200 cancelled and the stock comes back exactly once', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 10 });
    const o = (await place(buyer.token, [{ productId: p.id, quantity: 3 }])).body;
    assert.equal(await stockOf(product.base, p.id), 7);
    const results = await Promise.all([1, 2, 3].map(() => http<Order>(order.base, 'POST', `/order/${o.id}/cancel`, { token: buyer.token })));
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'cancelled');
    }
    assert.equal(await stockOf(product.base, p.id), 10);
    const again = await http<Order>(order.base, 'POST', `/order/${o.id}/cancel`, { token: buyer.token });
    assert.equal(again.status, 200);
    assert.equal(await stockOf(product.base, p.id), 10);
  });

  it('when someone else cancels, then 404; an admin may; a rejected order cannot be cancelled (409)', async () => {
    const buyer = await createCustomer(user.base);
    const other = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 2 });
    const o = (await place(buyer.token, [{ productId: p.id, quantity: 1 }])).body;
    problem(await http(order.base, 'POST', `/order/${o.id}/cancel`, { token: other.token }), 404);
    assert.equal((await http<Order>(order.base, 'GET', `/order/${o.id}`, { token: buyer.token })).body.status, 'confirmed');
    assert.equal((await http<Order>(order.base, 'POST', `/order/${o.id}/cancel`, { token: admin })).body.status, 'cancelled');
    const rejected = problem(await place(buyer.token, [{ productId: p.id, quantity: 5 }]), 409);
    problem(await http(order.base, 'POST', `/order/${rejected.orderId}/cancel`, { token: buyer.token }), 409, 'not-cancellable');
  });
});

describe('methods a route does not serve', () => {
  it('when an order route is asked with a method it does not serve (DELETE /order/:id, GET or DELETE on cancel, PUT /order), then 405 with Allow, and the order stays confirmed with its stock taken', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 4 });
    const o = (await place(buyer.token, [{ productId: p.id, quantity: 3 }])).body;
    assert.equal(o.status, 'confirmed');
    assertMethodNotAllowed(await http(order.base, 'DELETE', `/order/${o.id}`, { token: buyer.token }), 'GET, HEAD');
    assertMethodNotAllowed(await http(order.base, 'PATCH', `/order/${o.id}`, { token: admin, body: { status: 'cancelled' } }), 'GET, HEAD');
    assertMethodNotAllowed(await http(order.base, 'GET', `/order/${o.id}/cancel`, { token: buyer.token }), 'POST');
    assertMethodNotAllowed(await http(order.base, 'DELETE', `/order/${o.id}/cancel`, { token: buyer.token }), 'POST');
    const put = { token: buyer.token, body: { items: [{ productId: p.id, quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } };
    assertMethodNotAllowed(await http(order.base, 'PUT', '/order', put), 'GET, HEAD, POST');
    assertMethodNotAllowed(await http(order.base, 'PROPFIND', '/order', { token: buyer.token }), 'GET, HEAD, POST');
    assert.equal((await http<Order>(order.base, 'GET', `/order/${o.id}`, { token: buyer.token })).body.status, 'confirmed');
    assert.equal((await http<{ items: Order[] }>(order.base, 'GET', '/order', { token: buyer.token })).body.items.length, 1);
    assert.equal(await stockOf(product.base, p.id), 1);
  });
});

describe('security between services', () => {
  it('when a user token is sent to the internal reservation API, then 401; a customer cannot reach admin product routes', async () => {
    const buyer = await createCustomer(user.base);
    const p = await createProduct(product.base, admin, { stock: 5 });
    const reserve = await http(product.base, 'POST', '/internal/reservations', { token: buyer.token, body: { orderId: randomUUID(), items: [{ productId: p.id, quantity: 1 }] } });
    assert.equal(reserve.status, 401);
    assert.equal((await http(product.base, 'POST', '/internal/reservations', { token: admin, body: { orderId: randomUUID(), items: [{ productId: p.id, quantity: 1 }] } })).status, 401);
    assert.equal((await http(product.base, 'GET', `/internal/reservations/${randomUUID()}`, { token: buyer.token })).status, 401);
    assert.equal(await stockOf(product.base, p.id), 5);
  });

  it('when metrics are read, then orders_placed_total and the client histogram to the product service are there', async () => {
    const m = await http(order.base, 'GET', '/metrics');
    assert.match(m.text, /orders_placed_total\{[^}]*result="confirmed"/);
    assert.match(m.text, /http_client_request_duration_seconds_count\{[^}]*peer_service="product"/);
    assert.match(m.text, /orders_pending\{/);
  });
});
