// The shared public contract (API.md, docs/api.md) as an outside client meets it: the whole platform as real
// processes (tests/src/platform.ts), every request through the gateway, nothing but HTTP. A check lives here when a
// client written against the contract saw the platform answer otherwise.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { http, login, registerAccount, type HttpResult } from '@ecommerce/test-support';
import { startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gateway: string;

before(
  async () => {
    platform = await startPlatform();
    gateway = platform.procs.gateway.base;
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
});

function assertProblem(res: HttpResult, status: number): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal((res.body as { status?: number }).status, status);
}

async function session(): Promise<{ refreshToken: string }> {
  const account = await registerAccount(gateway, { tag: 'contract' });
  const res = await http<{ refreshToken: string }>(gateway, 'POST', '/user/login', { body: { email: account.email, password: account.password } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

// API.md: POST /user/token/refresh and POST /user/logout fail with 401 only. A refresh token is opaque to the client:
// one it does not hold (a typo, a token of another system, one cut short, a JWT pasted by mistake) is an invalid
// token, not an invalid request. The schema asked for 20..200 characters, so `"nope"` was a 400 validation-failed.
describe('when a client sends a refresh token the platform never issued, whatever its length', () => {
  const unknownTokens = ['nope', '', 'x'.repeat(19), 'eyJhbGciOiJFZERTQSJ9.' + 'a'.repeat(600)];

  it('then POST /user/token/refresh answers 401, and a live session is untouched', async () => {
    const live = await session();
    for (const refreshToken of unknownTokens) {
      assertProblem(await http(gateway, 'POST', '/user/token/refresh', { body: { refreshToken } }), 401);
    }
    const rotated = await http<{ refreshToken: string }>(gateway, 'POST', '/user/token/refresh', { body: { refreshToken: live.refreshToken } });
    assert.equal(rotated.status, 200, rotated.text);
  });

  it('then POST /user/logout answers 401, and a live session is untouched', async () => {
    const live = await session();
    for (const refreshToken of unknownTokens) {
      assertProblem(await http(gateway, 'POST', '/user/logout', { body: { refreshToken } }), 401);
    }
    const out = await http(gateway, 'POST', '/user/logout', { body: { refreshToken: live.refreshToken } });
    assert.equal(out.status, 204, out.text);
  });

  it('then a refresh token that is not a string is still a 400 (wrong type)', async () => {
    const res = await http<{ errors: { path: string }[] }>(gateway, 'POST', '/user/token/refresh', { body: { refreshToken: 42 } });
    assertProblem(res, 400);
    assert.equal(res.body.errors[0]?.path, '/refreshToken');
  });
});

// API.md: POST /order takes 1..50 items of quantity 1..1000 and answers 201; its failures list no 422 for a quantity in
// that range and no 429. The order service's defaults refused more than 10 units of a product per order (422
// quantity-limit) and more than 100 units per customer per clock hour (429 order-limit), so a client ordering 11 of
// anything, or a busy customer, was refused under `npm start`. Both limits stay, for an operator to set; the defaults
// are the contract's.
describe('when a customer orders within the quantities API.md allows, with the order service at its defaults', () => {
  it('then 1,000 units of one product in one order, and more than 100 units in an hour, are confirmed; stock = restocked - confirmed', async () => {
    const admin = await login(gateway, platform.admin.email, platform.admin.password);
    const created = await http<{ id: string; stock: number }>(gateway, 'POST', '/product', {
      token: admin,
      body: { sku: `BULK-${randomUUID()}`, name: 'Bulk bolts', priceCents: 7, stock: 1500 },
    });
    assert.equal(created.status, 201, created.text);
    const account = await registerAccount(gateway, { tag: 'bulk' });
    const customer = await login(gateway, account.email, account.password);
    const place = (quantity: number) =>
      http<{ status: string; totalCents: number }>(gateway, 'POST', '/order', {
        token: customer,
        headers: { 'idempotency-key': randomUUID() },
        body: { items: [{ productId: created.body.id, quantity }] },
      });
    const big = await place(1000);
    assert.equal(big.status, 201, big.text);
    assert.equal(big.body.status, 'confirmed');
    assert.equal(big.body.totalCents, 7000);
    const more = await place(11);
    assert.equal(more.status, 201, more.text);
    const stock = await http<{ stock: number }>(gateway, 'GET', `/product/${created.body.id}`);
    assert.equal(stock.body.stock, 1500 - 1011);
  });
});

// API.md: POST /user/register fails with 400 or 409, POST /user/login with 429 only "after repeated failures". The
// user service's per-address budgets (each attempt costs an argon2 hash) were 10 registrations and 30 logins a minute,
// right or wrong, so a client suite registering a customer per scenario from one machine got 429 from the 11th on
// (the project's own Postman run, bench and test harnesses all raise them). The budgets stay, sized for a client's
// honest pace: 100 registrations, 200 logins, 300 token calls a minute per address (REGISTER_, LOGIN_, TOKEN_MAX_PER_ADDRESS).
describe('when one client address registers and signs in customers at a test suite pace, with the user service at its defaults', () => {
  it('then 30 registrations and 60 logins within a minute are all served (201, 200)', async () => {
    const accounts: Awaited<ReturnType<typeof registerAccount>>[] = [];
    for (let i = 0; i < 30; i++) accounts.push(await registerAccount(gateway, { tag: 'pace' }));
    for (let i = 0; i < 60; i++) {
      const account = accounts[i % accounts.length]!;
      const res = await http(gateway, 'POST', '/user/login', { body: { email: account.email, password: account.password } });
      assert.equal(res.status, 200, `login ${i + 1}: ${res.text}`);
    }
  });
});
