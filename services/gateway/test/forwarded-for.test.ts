// The gateway tells the services the client address it sees, whatever X-Forwarded-For a client sends:
// rotating the header neither dodges the login throttle nor points it at someone else's address. Nor does a
// client's claim of another URL, host or method (X-Original-URL, X-HTTP-Method-Override, ...) reach a service.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { assertProblem, http, stopAll, uniqueEmail, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startGateway as startGatewayWith } from './harness.js';

let db: TestDatabase;
let user: Running;
const gateways: Running[] = [];

/** A gateway whose every upstream is `upstream`; closed after the file. */
async function startGateway(upstream: string, env: Record<string, string> = {}): Promise<string> {
  const gw = await startGatewayWith({ USER_SERVICE_URL: upstream, PRODUCT_SERVICE_URL: upstream, ORDER_SERVICE_URL: upstream, ...env });
  gateways.push(gw);
  return gw.base;
}

// The user service as deployed: it trusts its own proxy hop on loopback.
before(async () => ({ db, user } = await startUserStack({ TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '100' })));
after(() => stopAll(...gateways, user, db));

describe('X-Forwarded-For through the gateway', () => {
  it('when a client rotates X-Forwarded-For on failed logins, then they all count against its real address, and the addresses it named stay free', async () => {
    const gw = await startGateway(user.base);
    const named = ['198.51.100.10', '198.51.100.11, 198.51.100.12', '10.0.0.9'];
    for (const xff of named) {
      assertProblem(await http(gw, 'POST', '/user/login', { body: { email: uniqueEmail(), password: 'wrong-password' }, headers: { 'x-forwarded-for': xff } }), 401);
    }
    const email = uniqueEmail();
    assert.equal((await http(user.base, 'POST', '/user/register', { body: { email, password: 'correct-horse-1', name: 'Victim' } })).status, 201);
    // the client (127.0.0.1 as the gateway sees it) is refused, whatever it claims now
    assertProblem(await http(gw, 'POST', '/user/login', { body: { email, password: 'correct-horse-1' }, headers: { 'x-forwarded-for': '203.0.113.200' } }), 429, 'too-many-requests');
    // a client really at a named address (reported by a trusted proxy hop) is not locked out
    for (const victim of ['198.51.100.10', '198.51.100.12', '10.0.0.9']) {
      const res = await http(user.base, 'POST', '/user/login', { body: { email, password: 'correct-horse-1' }, headers: { 'x-forwarded-for': victim } });
      assert.equal(res.status, 200, `${victim}: ${res.text}`);
    }
  });

  it('when a client sends X-Forwarded-For, then the upstream receives exactly the address the gateway saw; with TRUST_PROXY, the one its proxy reported', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const echo = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const addr = echo.address();
      const upstream = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      const edge = await startGateway(upstream);
      await http(edge, 'GET', '/user/x', { headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' } });
      await http(edge, 'GET', '/user/x');
      assert.deepEqual(seen.map((h) => h['x-forwarded-for']), ['127.0.0.1', '127.0.0.1']);
      // behind a load balancer on loopback: its one hop is believed, nothing left of it
      seen.length = 0;
      const behind = await startGateway(upstream, { TRUST_PROXY: 'loopback' });
      await http(behind, 'GET', '/user/x', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' } });
      assert.deepEqual(seen.map((h) => h['x-forwarded-for']), ['203.0.113.5']);
      // The other ways a client could name an address, host or scheme never reach a service; the edge's own do.
      seen.length = 0;
      const claims = {
        forwarded: 'for=198.51.100.7;proto=https;host=evil.example',
        'x-real-ip': '198.51.100.7',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-port': '443',
        'x-forwarded-prefix': '/admin',
        'x-forwarded-server': 'evil.example',
        'x-client-ip': '198.51.100.7',
        'true-client-ip': '198.51.100.7',
        'cf-connecting-ip': '198.51.100.7',
        'x-cluster-client-ip': '198.51.100.7',
        'x-forwarded-scheme': 'https',
        'x-scheme': 'https',
        'x-forwarded-ssl': 'on',
        'front-end-https': 'on',
        'x-url-scheme': 'https',
        'x-forwarded-proto': 'https',
      };
      await http(edge, 'GET', '/user/x', { headers: claims });
      const [received] = seen;
      for (const name of Object.keys(claims).filter((n) => n !== 'x-forwarded-proto')) assert.equal(received?.[name], undefined, name);
      assert.equal(received?.['x-forwarded-proto'], 'http');
      assert.equal(received?.['x-forwarded-for'], '127.0.0.1');
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});

describe('URL, host and method overrides through the gateway', () => {
  it('when a client sends X-Original-URL, X-Rewrite-URL, X-Host, X-Forwarded-Server, the original URI or method an authorizer reads (X-Original-URI, X-Forwarded-Uri, X-Original-Method, ...) or a method override, in any case, then the upstream receives none of them, and the method, path and its other headers as sent', async () => {
    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
    const echo = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const addr = echo.address();
      const edge = await startGateway(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`);
      const overrides = [
        'x-original-url',
        'x-rewrite-url',
        'x-host',
        'x-forwarded-server',
        'x-original-uri',
        'x-original-method',
        'x-forwarded-uri',
        'x-forwarded-method',
        'x-forwarded-path',
        'x-envoy-original-path',
        'x-http-method-override',
        'x-http-method',
        'x-method-override',
      ];
      const casing = (name: string) => fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
      const claim = fc.record({
        method: fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'),
        names: fc.subarray(overrides, { minLength: 1 }).chain((names) => fc.tuple(...names.map(casing))),
        value: fc.constantFrom('/internal/orders', '/user/admin?x=1', 'DELETE', 'PUT', 'evil.example', 'http://evil.example/order'),
      });
      await fc.assert(
        fc.asyncProperty(claim, async ({ method, names, value }) => {
          seen.length = 0;
          const headers = Object.fromEntries([...names.map((n) => [n, value]), ['x-kept', 'yes']]);
          const res = await http(edge, method, '/order/abc', { headers, ...(method === 'POST' || method === 'PATCH' ? { body: {} } : {}) });
          assert.equal(res.status, 200, res.text);
          assert.equal(seen.length, 1);
          const [received] = seen;
          assert.equal(received?.method, method);
          assert.equal(received?.url, '/order/abc');
          for (const name of overrides) assert.equal(received?.headers[name], undefined, name);
          assert.equal(received?.headers['x-kept'], 'yes');
        }),
        { numRuns: 40 },
      );
    } finally {
      echo.closeAllConnections();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });
});
