import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { http, stopAll, uniqueEmail, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startGateway } from './harness.js';

let db: TestDatabase;
let user: Running;

before(async () => ({ db, user } = await startUserStack()));
after(() => stopAll(user, db));

describe('gateway', () => {
  it('when product and order are down, then the user API works through it, their routes answer 503 problem+json, and it is not ready', async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9' });
    try {
      const email = uniqueEmail();
      const reg = await http(gw.base, 'POST', '/user/register', { body: { email, password: 'password-123', name: 'Via Gateway' }, headers: { 'x-request-id': 'gw-test-1' } });
      assert.equal(reg.status, 201);
      assert.equal(reg.headers.get('x-request-id'), 'gw-test-1');
      const login = await http<{ accessToken: string }>(gw.base, 'POST', '/user/login', { body: { email, password: 'password-123' } });
      assert.equal(login.status, 200);
      const me = await http(gw.base, 'GET', '/user/me', { token: login.body.accessToken });
      assert.equal(me.body.email, email);
      const bad = await http(gw.base, 'POST', '/user/register', { body: { email: 'nope' } });
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /problem\+json/);
      for (const path of ['/product', '/product/123', '/order']) {
        const res = await http(gw.base, 'GET', path);
        assert.equal(res.status, 503, path);
        assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
        assert.equal((res.body as { status: number }).status, 503);
      }
      assert.equal((await http(gw.base, 'GET', '/readyz')).status, 503);
    } finally {
      await gw.app.close();
    }
  });

  it('when asked for internal, metrics or unknown paths, then it routes nothing (404); its own metrics are on METRICS_PORT', async () => {
    // No storefront build here, so `/` is unknown too (with one: storefront.test.ts).
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: user.base, ORDER_SERVICE_URL: user.base, STOREFRONT_DIR: '/nonexistent-storefront' });
    try {
      for (const path of ['/internal/reservations', '/internal/fault', '/metrics', '/users', '/', '/userx']) {
        const res = await http(gw.base, 'GET', path);
        assert.equal(res.status, 404, path);
      }
      const metricsPort = (gw.app.metricsServer?.address() as { port: number } | null)?.port;
      assert.ok(metricsPort);
      await http(gw.base, 'GET', '/user/.well-known/jwks.json');
      const metrics = await http(`http://127.0.0.1:${metricsPort}`, 'GET', '/metrics');
      assert.match(metrics.text, /http_server_request_duration_seconds_count\{[^}]*http_route="\/user\/\*"/);
      assert.match(metrics.text, /service="gateway"/);
      assert.doesNotMatch(metrics.text, /service="user"/);
      // every upstream (here all the user service) is ready, so the gateway is
      assert.equal((await http(gw.base, 'GET', '/readyz')).status, 200);
    } finally {
      await gw.app.close();
    }
  });

  it('when an upstream does not answer in time, then 504 problem+json', async () => {
    // An upstream that accepts the request and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const addr = silent.address();
    const slowUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: slowUrl, ORDER_SERVICE_URL: slowUrl, UPSTREAM_TIMEOUT_MS: '300' });
    try {
      const res = await http(gw.base, 'GET', '/product');
      assert.equal(res.status, 504);
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    } finally {
      await gw.app.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});
