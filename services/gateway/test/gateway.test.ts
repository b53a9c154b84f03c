import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminToken, assertMethodNotAllowed, assertProblem, freePort, http, login, rawExchange, registerAccount, stopAll, stopAllIfItFails, uniqueEmail, waitFor, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { loadGatewayConfig } from '../src/config.js';
import { startGateway } from './harness.js';
import { Pool } from 'undici';
import fc from 'fast-check';

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

  it("when a client asks for Connection: close (or speaks HTTP/1.0) on a proxied route, then the gateway closes after the answer; the upstream's hop-by-hop headers are not passed on", async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9' });
    const port = Number(new URL(gw.base).port);
    const exchange = (request: string) =>
      new Promise<{ head: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        let data = '';
        const s = connect(port, '127.0.0.1', () => s.write(request));
        s.setEncoding('latin1');
        s.on('data', (d: string) => (data += d));
        s.on('error', () => undefined);
        const giveUp = setTimeout(() => s.destroy(), 5000);
        s.on('close', () => (clearTimeout(giveUp), resolve({ head: data.split('\r\n\r\n')[0] ?? '', ms: Date.now() - t0 })));
      });
    try {
      for (const request of ['GET /user/.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'GET /user/.well-known/jwks.json HTTP/1.0\r\nHost: x\r\n\r\n']) {
        const { head, ms } = await exchange(request);
        assert.match(head, /^HTTP\/1\.1 200 /, head);
        assert.ok(ms < 3000, `the connection stayed open ${ms} ms`);
        assert.doesNotMatch(head, /keep-alive/i, head);
      }
      // The client's own hop-by-hop headers are not passed upstream (undici refused Keep-Alive and Upgrade:
      // the gateway answered 503 and counted the upstream as failing).
      for (const extra of ['Connection: close\r\nKeep-Alive: timeout=5', 'Connection: close, upgrade\r\nUpgrade: websocket', 'Connection: close\r\nTE: trailers']) {
        const { head } = await exchange(`GET /user/.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n${extra}\r\n\r\n`);
        assert.match(head, /^HTTP\/1\.1 200 /, `${extra}: ${head}`);
      }
      const raw10 = await exchange('GET /user/.well-known/jwks.json HTTP/1.0\r\nHost: x\r\nKeep-Alive: 300\r\n\r\n');
      assert.match(raw10.head, /^HTTP\/1\.1 200 /, raw10.head);
      // A kept-alive client still gets keep-alive, the gateway's own (not the upstream's timeout).
      const res = await fetch(`${gw.base}/user/.well-known/jwks.json`);
      await res.arrayBuffer();
      assert.equal(res.headers.get('connection'), 'keep-alive');
    } finally {
      await gw.app.close();
    }
  });

  it('when Authorization or Content-Type comes on two lines (or past the 1,000 header lines Node reads), then 400 at that header (431), through the gateway and direct, before any token is judged, and nothing is served or changed', async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9' });
    try {
      const [ann, bob] = await Promise.all([registerAccount(user.base, { tag: 'ann' }), registerAccount(user.base, { tag: 'bob' })]);
      const [annToken, bobToken, admin] = await Promise.all([login(user.base, ann.email, ann.password), login(user.base, bob.email, bob.password), adminToken(user.base)]);
      for (const base of [user.base, gw.base]) {
        // Node kept the first line: /user/me answered as Ann, whom a proxy reading the last line never authorized.
        for (const [first, second] of [[annToken, bobToken], [bobToken, annToken], [annToken, annToken]]) {
          const me = await rawExchange(base, `GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${first}\r\nauthorization: Bearer ${second}\r\nConnection: close\r\n\r\n`);
          assert.match(me, /^HTTP\/1\.1 400 [\s\S]*application\/problem\+json[\s\S]*"path":"headers\/authorization","message":"must be sent once"/, me);
          assert.doesNotMatch(me, /@example\.test/, 'no account is shown');
        }
        // Routes check tokens onRequest, before the request guards: there the first line decided, a 403 for a customer's
        // token before an admin's, a 401 for a bad one before a good one; now the two lines are refused alike.
        for (const [first, second] of [[annToken, admin], ['not-a-token', admin], [admin, annToken]]) {
          const users = await rawExchange(base, `GET /user/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${first}\r\nAuthorization: Bearer ${second}\r\nConnection: close\r\n\r\n`);
          assert.match(users, /^HTTP\/1\.1 400 [\s\S]*"path":"headers\/authorization","message":"must be sent once"/, users);
        }
        // More header lines than Node reads: it dropped the rest unseen, a second Authorization among them, and served
        // the first. Now 431; up to the limit (1,000 lines) a request is read whole.
        const filler = (n: number) => Array.from({ length: n }, (_, i) => `x-filler-${i % 10}: 1\r\n`).join('');
        const hidden = await rawExchange(base, `GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${annToken}\r\n${filler(1000)}Authorization: Bearer ${bobToken}\r\nConnection: close\r\n\r\n`);
        assert.match(hidden, /^HTTP\/1\.1 431 [\s\S]*application\/problem\+json[\s\S]*"detail":"A request may have at most 1000 header lines"/, hidden.slice(0, 300));
        const atLimit = await rawExchange(base, `GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${annToken}\r\n${filler(997)}Connection: close\r\n\r\n`);
        assert.match(atLimit, /^HTTP\/1\.1 200 /, atLimit.slice(0, 300));
        // A body labelled JSON and text at once was parsed as JSON (the first line) and the account created.
        const email = uniqueEmail('twice');
        const body = JSON.stringify({ email, password: 'correct-horse-1', name: 'Twice' });
        const reg = await rawExchange(base, `POST /user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        assert.match(reg, /^HTTP\/1\.1 400 [\s\S]*"path":"headers\/content-type","message":"must be sent once"/, reg);
        assertProblem(await http(base, 'POST', '/user/login', { body: { email, password: 'correct-horse-1' } }), 401);
      }
      // One line each is served as before.
      assert.equal((await http<{ id: string }>(gw.base, 'GET', '/user/me', { token: annToken })).body.id, ann.id);
    } finally {
      await gw.app.close();
    }
  });

  it('when a client names in Connection a field the services read (Authorization, Idempotency-Key, If-Match, Content-Type...), then 400 at headers/connection and nothing is done: the field is not dropped on the way (a 401 for a token sent, a key lost and its retry run twice); a Connection naming other fields is still served (fast-check)', async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9' });
    const account = await registerAccount(user.base, { tag: 'conn' });
    const token = await login(user.base, account.email, account.password);
    const field = fc.constantFrom('authorization', 'cookie', 'idempotency-key', 'content-type', 'content-encoding', 'accept', 'prefer', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since');
    const cased = (name: string, upper: boolean[]) => [...name].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c)).join('');
    // `close` always among them: rawExchange reads until the gateway closes the connection.
    const others = fc.subarray(['x-trace-me', 'TE', 'Keep-Alive']).map((o) => ['close', ...o]);
    try {
      await fc.assert(
        fc.asyncProperty(field, fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), others, fc.nat(), async (name, upper, rest, at) => {
          const options = [...rest];
          options.splice(at % (options.length + 1), 0, cased(name, upper));
          const connection = options.join(', ');
          const me = await rawExchange(gw.base, `GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: ${connection}\r\n\r\n`);
          assert.match(me, /^HTTP\/1\.1 400 [\s\S]*application\/problem\+json[\s\S]*"path":"headers\/connection"/, `${connection}: ${me.slice(0, 300)}`);
          assert.doesNotMatch(me, /@example\.test/, connection);
          const email = uniqueEmail('conn');
          const body = JSON.stringify({ email, password: 'correct-horse-1', name: 'Conn' });
          const reg = await rawExchange(gw.base, `POST /user/register HTTP/1.1\r\nHost: x\r\nIdempotency-Key: ${email}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: ${connection}\r\n\r\n${body}`);
          assert.match(reg, /^HTTP\/1\.1 400 [\s\S]*"path":"headers\/connection"/, `${connection}: ${reg.slice(0, 300)}`);
          // Nothing was done: the address is still free.
          assertProblem(await http(user.base, 'POST', '/user/login', { body: { email, password: 'correct-horse-1' } }), 401);
        }),
        { numRuns: 30 },
      );
      // Options that name no such field are served (their fields dropped as hop-by-hop, RFC 9110 7.6.1).
      const fine = await rawExchange(gw.base, `GET /user/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Trace-Me: 1\r\nConnection: close, x-trace-me\r\n\r\n`);
      assert.match(fine, /^HTTP\/1\.1 200 /, fine.slice(0, 300));
      assert.match(fine, new RegExp(account.email.replaceAll('.', '\\.')));
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
      // The metrics port closes a connection that sends nothing, like the public port (after 10 s).
      const t0 = Date.now();
      const silentFor = await new Promise<number>((resolve) => {
        const s = connect(metricsPort, '127.0.0.1');
        s.on('error', () => undefined);
        const giveUp = setTimeout(() => (resolve(Infinity), s.destroy()), 15_000);
        s.on('close', () => (clearTimeout(giveUp), resolve(Date.now() - t0)));
      });
      assert.ok(silentFor < 13_000, `a silent connection to the metrics port stayed ${silentFor} ms`);
      assert.doesNotMatch(metrics.text, /service="user"/);
      // every upstream (here all the user service) is ready, so the gateway is
      assert.equal((await http(gw.base, 'GET', '/readyz')).status, 200);
    } finally {
      await gw.app.close();
    }
  });

  it("when a route is asked through the gateway with a method it does not serve (DELETE /user/me, PROPFIND, TRACE), then the service's 405 and Allow reach the client, and nothing changes", async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9', STOREFRONT_DIR: '/nonexistent-storefront' });
    const pool = new Pool(gw.base);
    try {
      const account = await registerAccount(gw.base);
      const token = await login(gw.base, account.email, account.password);
      // The Allow names what the user service serves at each path: the gateway's own route is /user/* for every method.
      assertMethodNotAllowed(await http(gw.base, 'DELETE', '/user/me', { token }), 'GET, HEAD');
      assertMethodNotAllowed(await http(gw.base, 'PROPFIND', '/user/me', { token }), 'GET, HEAD');
      assert.equal((await http(gw.base, 'GET', '/user/me', { token })).body.id, account.id);
      const body = { email: uniqueEmail('put'), password: 'correct-horse-1', name: 'Put' };
      assertMethodNotAllowed(await http(gw.base, 'PUT', '/user/register', { body }), 'POST');
      assert.equal((await http(gw.base, 'POST', '/user/register', { body })).status, 201);
      // Methods fetch will not send: TRACE (forwarded too), and an unknown path stays the gateway's 404.
      // QUERY without a Content-Type, and a Content-Type that is no media type (Fastify answers both, 400 and 415, before
      // any route: the gateway's, then the service's).
      for (const [method, path, status, allow, type] of [
        ['TRACE', '/user/login', 405, 'POST'],
        ['LOCK', '/user/users', 405, 'GET, HEAD'],
        ['TRACE', '/userx', 404, null],
        ['QUERY', '/user/me', 405, 'GET, HEAD'],
        ['QUERY', '/userx', 404, null],
        ['DELETE', '/user/me', 405, 'GET, HEAD', ''],
        ['PUT', '/user/users', 405, 'GET, HEAD', 'garbage'],
        ['DELETE', '/userx', 404, null, 'a/b c'],
      ] as const) {
        const res = await pool.request({ method: method as 'GET', path, ...(type === undefined ? {} : { headers: { 'content-type': type } }) });
        await res.body.dump();
        assert.equal(res.statusCode, status, `${method} ${path} ${type ?? ''}`);
        assert.equal(res.headers.allow, allow ?? undefined, `${method} ${path} ${type ?? ''}`);
      }
      assertProblem(await http(gw.base, 'POST', '/userx', { body: {} }), 404, 'not-found');
    } finally {
      await pool.close();
      await gw.app.close();
    }
  });

  it('when a GET or HEAD through the gateway carries If-None-Match: * (a route without ETag, the resource exists), then the service\'s bodiless 304 reaches the client and the connection serves the next request; a refused caller gets its 401 or 403 instead (RFC 9110 13.1.2, 13.2.1)', async () => {
    // Before: If-None-Match: * on a GET of an untagged resource was ignored (200 with the body).
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: 'http://127.0.0.1:9', ORDER_SERVICE_URL: 'http://127.0.0.1:9', STOREFRONT_DIR: '/nonexistent-storefront' });
    const pool = new Pool(gw.base, { connections: 1 });
    try {
      const account = await registerAccount(gw.base);
      const token = await login(gw.base, account.email, account.password);
      const authorization = `Bearer ${token}`;
      for (const method of ['GET', 'HEAD', 'GET'] as const) {
        const res = await pool.request({ method, path: '/user/me', headers: { authorization, 'if-none-match': '*' } });
        assert.equal(await res.body.text(), '');
        assert.equal(res.statusCode, 304, method);
        assert.equal(res.headers['content-length'], undefined, method);
        assert.equal(res.headers['cache-control'], 'no-store', method);
      }
      const again = await pool.request({ method: 'GET', path: '/user/me', headers: { authorization } });
      assert.equal(again.statusCode, 200);
      assert.equal(((await again.body.json()) as { id: string }).id, account.id);
      assertProblem(await http(gw.base, 'GET', '/user/me', { headers: { 'if-none-match': '*' } }), 401);
      assertProblem(await http(gw.base, 'GET', '/user/users', { token, headers: { 'if-none-match': '*' } }), 403);
    } finally {
      await pool.close();
      await gw.app.close();
    }
  });

  it("when a path has a '..' segment (written, percent-encoded, dots by a slash or a backslash), then 400 problem+json that says so, and nothing reaches the upstream; other dots pass", async () => {
    const seen: string[] = [];
    const upstream = createServer((req, res) => (seen.push(req.url ?? ''), res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{}')));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const addr = upstream.address();
    const upstreamUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: upstreamUrl, ORDER_SERVICE_URL: upstreamUrl });
    // Raw requests: a URL parser on the client side would resolve the dot segments before sending.
    const port = Number(new URL(gw.base).port);
    const raw = (path: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('error', reject);
        s.on('close', () => {
          const [head = '', body = ''] = out.split('\r\n\r\n');
          resolve({ status: Number(head.split(' ')[1]), type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body });
        });
        s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
    try {
      // A backslash is a slash to the proxy's URL parser (WHATWG, for http): '\\..\\' is a '..' segment there too.
      const backslashed = ['/product/\\..\\metrics', '/order/%5c..%5cmetrics', '/order/%5C..%5Cinternal/x', '/product/\\..%5Cuser\\me', '/order/\\..'];
      for (const path of ['/product/../user/me', '/product/%2e%2E/user/me', '/product/..%2f..%2fuser%2fme', '/order/..', '/product/...', '/product/..x', '/order/a../b', ...backslashed]) {
        const res = await raw(path);
        assert.equal(res.status, 400, path);
        assert.match(res.type, /application\/problem\+json/, path);
        assert.match(JSON.parse(res.body).detail, /'\.\.' segment/, path);
      }
      assert.deepEqual(seen, []);
      for (const path of ['/product/a..b', '/product/.x', '/product?q=..%2Fetc', '/product/a%5C..b']) {
        assert.equal((await raw(path)).status, 404, path);
      }
      assert.deepEqual(seen, ['/product/a..b', '/product/.x', '/product?q=..%2Fetc', '/product/a%5C..b']);
    } finally {
      await gw.app.close();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
  it('when a path holds single-dot segments, backslashes or characters a URL parser escapes, then the upstream gets it exactly as sent, as the service would directly (property)', async () => {
    // The proxy built the upstream URL with the WHATWG parser, which rewrote what it forwarded: `/user/token\refresh`
    // reached the user service as its refresh route (directly a 404), `/product/%2e/x` as `/product/x`, and
    // `/product/"` as `/product/%22`, while the gateway's log line named the path sent.
    const seen: string[] = [];
    const upstream = createServer((req, res) => (seen.push(req.url ?? ''), res.writeHead(404, { 'content-type': 'application/problem+json' }).end('{}')));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const addr = upstream.address();
    const upstreamUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const gw = await startGateway({ USER_SERVICE_URL: upstreamUrl, PRODUCT_SERVICE_URL: upstreamUrl, ORDER_SERVICE_URL: upstreamUrl });
    const port = Number(new URL(gw.base).port);
    const statusOf = (target: string) =>
      new Promise<number>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let out = '';
        s.on('data', (d) => (out += d));
        s.on('error', reject);
        s.on('close', () => resolve(Number(out.split(' ')[1])));
        s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
    // One piece per segment, so no two dots meet (a '..' segment is refused: the test above).
    const piece = fc.constantFrom('a', '.', '%2e', '%2E', '\\', 'b\\c', '%5C', '"', '<x>', '{|}', '^', '`', 'x.y', '.z', '%20', '~');
    const target = fc.record({
      prefix: fc.constantFrom('/user', '/product', '/order'),
      segments: fc.array(piece, { minLength: 1, maxLength: 5 }),
      query: fc.constantFrom('', '?', '?q=a\\b', '?x=./.'),
    });
    try {
      await fc.assert(
        fc.asyncProperty(target, async ({ prefix, segments, query }) => {
          const sent = `${prefix}/${segments.join('/')}${query}`;
          seen.length = 0;
          assert.equal(await statusOf(sent), 404, sent);
          assert.deepEqual(seen, [sent]);
        }),
        { numRuns: 60 },
      );
    } finally {
      await gw.app.close();
      upstream.closeAllConnections();
      upstream.close();
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
  it('when an upstream answers a GET 503 (overloaded, or its database down), then that answer is passed on once, not the request sent again ten times', async () => {
    // reply-from retried a GET answered 503 up to 10 times, waiting Retry-After read as milliseconds: eleven requests
    // to a service for each one a client sent, just when that service said it could not take more.
    let hits = 0;
    const overloaded = createServer((_req, res) => {
      hits++;
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '5' }).end(JSON.stringify({ type: 'https://ecommerce.local/problems/service-unavailable', status: 503 }));
    });
    await new Promise<void>((resolve) => overloaded.listen(0, '127.0.0.1', resolve));
    const addr = overloaded.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: url, ORDER_SERVICE_URL: url });
    try {
      for (const path of ['/product', '/order/123']) {
        hits = 0;
        const res = await http(gw.base, 'GET', path);
        assert.equal(res.status, 503, path);
        assert.equal(res.headers.get('retry-after'), '5', 'the upstream\'s Retry-After reaches the client');
        assert.equal(hits, 1, `${path}: requests the upstream got`);
      }
    } finally {
      await gw.app.close();
      overloaded.closeAllConnections();
      overloaded.close();
    }
  });

  it('when clients hang up before the upstream answers, then each upstream request is aborted (the service sees its caller go), each cut answer is one info line (499), never an "unhandled error", and nothing 5xx is counted', async () => {
    // The upstream would answer 2 s after the body; each client has gone long before, and the gateway closes the
    // upstream request it made for it (an answer the upstream still writes goes nowhere).
    let received = 0;
    let abandoned = 0;
    const late = createServer((req, res) => {
      received++;
      req.resume();
      res.once('close', () => (res.writableFinished ? undefined : abandoned++));
      req.on('end', () => setTimeout(() => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"x"}'), 2000));
    });
    await new Promise<void>((resolve) => late.listen(0, '127.0.0.1', resolve));
    const lateUrl = `http://127.0.0.1:${(late.address() as { port: number }).port}`;
    const { port, metricsPort, lines, stop } = await stopAllIfItFails(spawnGateway({ PRODUCT_SERVICE_URL: lateUrl, ORDER_SERVICE_URL: lateUrl }), late);
    try {
      const clients = 10;
      await Promise.all(Array.from({ length: clients }, async () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write('POST /order HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        await new Promise((r) => setTimeout(r, 30));
        socket.destroy();
      }));
      await waitFor('a line per cut answer', async () => lines().filter((l) => l.msg === 'client closed the connection').length === clients, 5_000);
      // A request whose client had gone before it was forwarded (a loaded machine) never reaches the upstream at all.
      await waitFor('the upstream to see every request it got abandoned', async () => received > 0 && abandoned === received, 5_000);
      assert.deepEqual(lines().filter((l) => l.level >= 50), []);
      // Nor the proxy library's warn line with the whole AbortError and its stack (2 KB a hang-up).
      assert.deepEqual(lines().filter((l) => l.msg === 'response errored'), []);
      // One line per request (the kit's); the proxy library's own two per request are off.
      assert.deepEqual(lines().filter((l) => l.msg === 'fetching from remote server' || l.msg === 'response received'), []);
      const metrics = await http(`http://127.0.0.1:${metricsPort}`, 'GET', '/metrics');
      assert.doesNotMatch(metrics.text, /http_response_status_code="5\d\d"/);
    } finally {
      await stop();
      late.close();
    }
  });

  it('when an upstream refuses the connection or does not answer in time, then each failed request has, beside its request line, one warn line naming the upstream and the code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT), not also the library\'s line with the whole error', async () => {
    const silent = createServer((req) => req.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const { port, lines, stop } = await stopAllIfItFails(spawnGateway({ PRODUCT_SERVICE_URL: `http://127.0.0.1:${await freePort()}`, ORDER_SERVICE_URL: silentUrl, UPSTREAM_TIMEOUT_MS: '300' }), silent);
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 3; i++) {
        assertProblem(await http(base, 'GET', '/product'), 503);
        assertProblem(await http(base, 'GET', '/order'), 504);
      }
      const failures = () => lines().filter((l) => l.level >= 40 && l.msg !== 'request' && l.msg !== 'storefront not built (npm run build): / is not served');
      await waitFor('a line per failed request', async () => failures().length >= 6, 5_000);
      await new Promise((r) => setTimeout(r, 200));
      const seen = failures();
      assert.deepEqual(seen.map((l) => [l.msg, l.upstream, l.code]).sort(), [
        ...Array(3).fill(['upstream error', '/order', 'UND_ERR_HEADERS_TIMEOUT']),
        ...Array(3).fill(['upstream error', '/product', 'ECONNREFUSED']),
      ]);
      for (const line of seen) assert.ok(line.raw.length < 600, line.raw);
    } finally {
      await stop();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

/** The gateway as its own process (its log lines are what is checked), as `npm start` runs it; user service of this file. */
async function spawnGateway(env: Record<string, string>) {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const gateway = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.js')], {
    env: { ...process.env, PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info', USER_SERVICE_URL: user.base, STOREFRONT_DIR: '/nonexistent-storefront', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  gateway.stdout.on('data', (d: Buffer) => (out += String(d)));
  const exited = new Promise((resolve) => gateway.once('exit', resolve));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((raw) => ({ ...(JSON.parse(raw) as { level: number; msg: string; upstream?: string; code?: string }), raw }));
  const stop = async () => {
    gateway.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor('the gateway to listen', async () => out.includes('Server listening'));
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, metricsPort, lines, stop };
}

describe('the public port (services/gateway/README.md: `PORT`, `GATEWAY_PORT`, 8080, GATEWAY_PORT wins when both are set)', () => {
  it('when PORT and GATEWAY_PORT are set, unset or empty in any mix, then the gateway listens on GATEWAY_PORT when it is set, else PORT, else 8080', () => {
    const setting = fc.oneof(fc.constant(undefined), fc.constant(''), fc.integer({ min: 0, max: 65535 }).map(String));
    fc.assert(
      fc.property(setting, setting, (port, gatewayPort) => {
        const env: NodeJS.ProcessEnv = {};
        if (port !== undefined) env.PORT = port;
        if (gatewayPort !== undefined) env.GATEWAY_PORT = gatewayPort;
        // Empty counts as unset, as for every variable (packages/kit/src/config.ts).
        const expected = Number(gatewayPort || port || 8080);
        assert.equal(loadGatewayConfig(env).PORT, expected, JSON.stringify(env));
      }),
    );
  });
});

describe('settings an operator gets wrong (docs/configuration.md: "a bad value stops the process with a message naming the variable")', () => {
  /** Runs the gateway's main with `env` until it exits (at most 10 s): its exit code and stdout lines. */
  async function startFails(env: Record<string, string>) {
    const gateway = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.js')], {
      env: { ...process.env, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', STOREFRONT_DIR: '/nonexistent-storefront', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    gateway.stdout.on('data', (d: Buffer) => (out += String(d)));
    gateway.stderr.on('data', (d: Buffer) => (out += String(d)));
    const timer = setTimeout(() => gateway.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => gateway.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    return { code, lines: out.split('\n').filter((l) => l !== '') };
  }

  it('when a URL, TRUST_PROXY or HOST is one it cannot use (no host, a port past 65535, a path, a user and password, a word, a blank, a name that resolves nowhere), then it exits non-zero with one line naming the variable, no stack trace and no password; so does a METRICS_PORT another process holds', async () => {
    // Before: a URL or TRUST_PROXY passed the config and the build died with an `Invalid URL` stack naming no variable,
    // HOST=" " with a getaddrinfo stack; a URL's user and password were dropped without a word.
    const taken = createServer().unref(); // a port another process holds; never keeps the test alive
    const takenPort = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    const cases: [Record<string, string>, RegExp][] = [
      [{ USER_SERVICE_URL: 'http://' }, /USER_SERVICE_URL: expected an http/],
      [{ PRODUCT_SERVICE_URL: 'http://127.0.0.1:99999' }, /PRODUCT_SERVICE_URL: expected an http/],
      [{ ORDER_SERVICE_URL: 'http://127.0.0.1:3003/order' }, /ORDER_SERVICE_URL: expected an http/],
      [{ USER_SERVICE_URL: 'http://ops:s3cret-pw@127.0.0.1:3001' }, /USER_SERVICE_URL: expected an http/],
      [{ TRUST_PROXY: 'the-load-balancer' }, /TRUST_PROXY: "the-load-balancer" is not an IP address/],
      [{ HOST: ' ' }, /HOST: expected an address or a host name/],
      [{ HOST: 'no-such-host.invalid' }, /cannot listen: HOST \(the metrics listener on "no-such-host.invalid" port 0\): getaddrinfo ENOTFOUND/],
      // Taken by another process: before, the gateway served on without its /metrics (an onListen error is only
      // logged), and Prometheus scraped that process's series as the gateway's.
      [{ METRICS_PORT: String(takenPort) }, new RegExp(`cannot listen: METRICS_PORT \\(the metrics listener on "127.0.0.1" port ${takenPort}\\): listen EADDRINUSE`)],
    ];
    for (const [env, named] of cases) {
      const { code, lines } = await startFails(env).finally(() => env.METRICS_PORT && taken.close());
      const what = JSON.stringify(env);
      assert.notEqual(code, 0, what);
      assert.notEqual(code, null, `${what}: still running after 10 s`);
      // Every line is JSON; one error line, the fatal one (the storefront's warning that it is not built may precede it).
      const parsed = lines.map((raw) => JSON.parse(raw) as { level: number; msg: string; problems?: string[] });
      const errors = parsed.filter((l) => l.level >= 50);
      assert.equal(errors.length, 1, `${what}: ${lines.join('\n')}`);
      assert.equal(errors[0]!.level, 60, what);
      assert.match(`${errors[0]!.msg} ${errors[0]!.problems?.join(' ') ?? ''}`, named, what);
      for (const raw of lines) assert.doesNotMatch(raw, /stack|s3cret-pw/, what);
    }
  });
});
