// docs/configuration.md's business counters (the "Metrics" table), by what they count: the Grafana business
// dashboard and the alert rules read them, and deploy/monitoring's live test only sees each documented series exist
// (at 0, with the monitoring tools installed). Here one shopper's known story runs through the gateway of a platform
// of the file's own, and each counter must move by exactly what the story did.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { http, login, metricValue, registerAccount } from '@ecommerce/test-support';
import { startPlatform, type Platform, type ServiceName } from '../src/platform.js';

let platform: Platform;
let gw: string;

before(
  async () => {
    // Two wrong passwords of one account from one address, then that key answers 429 (rate_limited).
    platform = await startPlatform({ serviceEnv: { user: { LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '2' } } });
    gw = platform.procs.gateway.base;
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
});

const scrape = async (name: ServiceName) => (await fetch(`${platform.procs[name].base}/metrics`)).text();

describe('when one shopper registers, signs in, orders, is refused and cancels', () => {
  it('then users_registered_total, user_logins_total, orders_placed_total, orders_cancelled_total, orders_revenue_cents_total and reservations_total move by exactly that', async () => {
    const admin = await login(gw, platform.admin.email, platform.admin.password);
    const product = async (input: Record<string, unknown>) => {
      const res = await http<{ id: string }>(gw, 'POST', '/product', { token: admin, body: { sku: `MET-${randomUUID()}`, name: 'Metered', stock: 5, ...input } });
      assert.equal(res.status, 201, res.text);
      return res.body.id;
    };
    const usd = await product({ priceCents: 250 });
    const eur = await product({ priceCents: 400, currency: 'EUR' });
    const before = { user: await scrape('user'), order: await scrape('order'), product: await scrape('product') };

    const account = await registerAccount(gw, { tag: 'metrics' });
    const token = await login(gw, account.email, account.password);
    const wrong = [];
    for (let i = 0; i < 3; i++) wrong.push((await http(gw, 'POST', '/user/login', { body: { email: account.email, password: 'not-the-password' } })).status);
    assert.deepEqual(wrong, [401, 401, 429]);

    const place = async (items: unknown[], key: string = randomUUID()) =>
      http<{ id: string; orderId?: string }>(gw, 'POST', '/order', { token, headers: { 'idempotency-key': key }, body: { items } });
    const key = randomUUID();
    const confirmed = await place([{ productId: usd, quantity: 2 }], key); // 500 USD
    assert.equal(confirmed.status, 201, confirmed.text);
    assert.equal((await place([{ productId: usd, quantity: 2 }], key)).status, 200); // a replay
    assert.equal((await place([{ productId: eur, quantity: 1 }])).status, 201); // 400 EUR
    assert.equal((await place([{ productId: randomUUID(), quantity: 1 }])).status, 404);
    assert.equal((await place([{ productId: usd, quantity: 1 }, { productId: eur, quantity: 1 }])).status, 422);
    assert.equal((await place([{ productId: usd, quantity: 9 }])).status, 409);
    for (let i = 0; i < 2; i++) assert.equal((await http(gw, 'POST', `/order/${confirmed.body.id}/cancel`, { token })).status, 200);

    const after = { user: await scrape('user'), order: await scrape('order'), product: await scrape('product') };
    const moved = (service: ServiceName, name: string, label?: string) => {
      const parts = label ? [label] : [];
      return metricValue(after[service as 'user'], name, parts) - metricValue(before[service as 'user'], name, parts);
    };
    assert.deepEqual(
      {
        registered: moved('user', 'users_registered_total'),
        loginSuccess: moved('user', 'user_logins_total', 'result="success"'),
        loginInvalid: moved('user', 'user_logins_total', 'result="invalid_credentials"'),
        loginLimited: moved('user', 'user_logins_total', 'result="rate_limited"'),
        placedConfirmed: moved('order', 'orders_placed_total', 'result="confirmed"'),
        placedReplayed: moved('order', 'orders_placed_total', 'result="replayed"'),
        placedRejected: moved('order', 'orders_placed_total', 'result="rejected"'),
        placedNotFound: moved('order', 'orders_placed_total', 'result="not_found"'),
        placedFailed: moved('order', 'orders_placed_total', 'result="failed"'),
        placedPending: moved('order', 'orders_placed_total', 'result="pending"'),
        cancelled: moved('order', 'orders_cancelled_total'),
        revenueUsd: moved('order', 'orders_revenue_cents_total', 'currency="USD"'),
        revenueEur: moved('order', 'orders_revenue_cents_total', 'currency="EUR"'),
        reserved: moved('product', 'reservations_total', 'result="reserved"'),
        released: moved('product', 'reservations_total', 'result="released"'),
        insufficient: moved('product', 'reservations_total', 'result="insufficient_stock"'),
        unknown: moved('product', 'reservations_total', 'result="not_found"'),
        mixed: moved('product', 'reservations_total', 'result="mixed_currency"'),
      },
      {
        registered: 1,
        loginSuccess: 1,
        loginInvalid: 2,
        loginLimited: 1,
        placedConfirmed: 2,
        placedReplayed: 1,
        placedRejected: 2, // mixed currencies and short stock
        placedNotFound: 1,
        placedFailed: 0,
        placedPending: 0,
        cancelled: 1, // the repeat is a no-op
        revenueUsd: 500,
        revenueEur: 400,
        reserved: 2,
        released: 1,
        insufficient: 1,
        unknown: 1,
        mixed: 1,
      },
    );
  });
});
