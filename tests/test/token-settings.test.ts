// docs/configuration.md's token settings, by their effect on the real processes: `JWT_ISSUER` ("`iss` of every
// token"), `JWT_AUDIENCE` ("`aud` of user access tokens"), read by the user, product and order services alike, and the
// user service's `ACCESS_TOKEN_TTL_SECONDS` and `SERVICE_TOKEN_TTL_SECONDS`. The configuration-doc test holds their
// defaults to the schemas; nothing started a service with another value, so a service that ignored one of them
// (verifying against a constant, or issuing with one) passed every test: all run with the defaults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { assertProblem, http, registerAccount } from '@ecommerce/test-support';
import { loadGatewayConfig } from '@ecommerce/gateway-service/config';
import { startPlatform, type Platform } from '../src/platform.js';

const ISSUER = 'acme-identity';
const AUDIENCE = 'acme-shop';
const ACCESS_TTL = 300;
const SERVICE_TTL = 120;

let platform: Platform;
let gw: string;

before(
  async () => {
    const tokens = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
    platform = await startPlatform({
      serviceEnv: {
        user: { ...tokens, ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TTL), SERVICE_TOKEN_TTL_SECONDS: String(SERVICE_TTL) },
        product: tokens,
        order: tokens,
      },
    });
    gw = platform.procs.gateway.base;
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
});

describe('when the user, product and order services are given JWT_ISSUER, JWT_AUDIENCE and the token lifetimes', () => {
  it('then access tokens carry that iss and aud and live ACCESS_TOKEN_TTL_SECONDS, and every service takes them: an order goes through', async () => {
    const adminLogin = await http<{ accessToken: string; expiresIn: number }>(gw, 'POST', '/user/login', { body: platform.admin });
    assert.equal(adminLogin.status, 200, adminLogin.text);
    const claims = decodeJwt(adminLogin.body.accessToken);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(adminLogin.body.expiresIn, ACCESS_TTL);
    assert.equal(Number(claims.exp) - Number(claims.iat), ACCESS_TTL);
    const admin = adminLogin.body.accessToken;

    // Product (admin route), order (user route, and its service token to the product service), user (/me).
    const created = await http<{ id: string }>(gw, 'POST', '/product', { token: admin, body: { sku: `TOK-${randomUUID()}`, name: 'Token test', priceCents: 500, stock: 3 } });
    assert.equal(created.status, 201, created.text);
    const account = await registerAccount(gw, { tag: 'tokens' });
    const customer = await http<{ accessToken: string }>(gw, 'POST', '/user/login', { body: { email: account.email, password: account.password } });
    const placed = await http<{ status: string }>(gw, 'POST', '/order', {
      token: customer.body.accessToken,
      headers: { 'idempotency-key': randomUUID() },
      body: { items: [{ productId: created.body.id, quantity: 2 }] },
    });
    assert.equal(placed.status, 201, placed.text);
    assert.equal(placed.body.status, 'confirmed');
    assert.equal((await http(gw, 'GET', '/user/me', { token: customer.body.accessToken })).status, 200);
  });

  it('then a token signed with the right key but the default iss and aud is refused by each of them (401 invalid_token)', async () => {
    const account = await registerAccount(gw, { tag: 'tokens' });
    const defaults = await platform.signUserToken({ role: 'admin' }, account.id);
    assert.equal(decodeJwt(defaults).iss, 'ecommerce-user-service', 'the platform signs with the defaults');
    for (const [method, path, body] of [
      ['GET', '/user/me', undefined],
      ['GET', '/order', undefined],
      ['POST', '/product', { sku: `TOK-${randomUUID()}`, name: 'Forged', priceCents: 1, stock: 1 }],
    ] as const) {
      const res = await http(gw, method, path, { token: defaults, ...(body ? { body } : {}) });
      assertProblem(res, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, `${method} ${path}`);
    }
  });

  it('then a service token carries that iss and lives SERVICE_TOKEN_TTL_SECONDS (expires_in and exp alike)', async () => {
    const res = await http<{ access_token: string; expires_in: number }>(gw, 'POST', '/user/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: platform.orderClient.id, client_secret: platform.orderClient.secret },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.expires_in, SERVICE_TTL);
    const claims = decodeJwt(res.body.access_token);
    assert.equal(claims.iss, ISSUER);
    assert.equal(Number(claims.exp) - Number(claims.iat), SERVICE_TTL);
  });
});

// docs/configuration.md and the gateway's README: `GATEWAY_PORT` is "the gateway's listen port when set, over `PORT`".
describe('when the gateway is given GATEWAY_PORT and PORT', () => {
  it('then it listens on GATEWAY_PORT, 0 included; PORT alone, or an empty GATEWAY_PORT, leaves PORT', () => {
    assert.equal(loadGatewayConfig({ PORT: '8181', GATEWAY_PORT: '8282' }).PORT, 8282);
    assert.equal(loadGatewayConfig({ PORT: '8181', GATEWAY_PORT: '0' }).PORT, 0);
    assert.equal(loadGatewayConfig({ PORT: '8181' }).PORT, 8181);
    assert.equal(loadGatewayConfig({ PORT: '8181', GATEWAY_PORT: '' }).PORT, 8181);
    assert.equal(loadGatewayConfig({}).PORT, 8080);
  });
});
