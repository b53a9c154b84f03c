// The gateway attacked from outside, through its public port only: a service's internal and operational routes
// spelled every way a proxy and a service could read differently, and request framings a hop in front could read
// another way, each followed on its connection by a request that must never reach a service.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { http, rawExchange, stopAll, type Running, type TestDatabase } from '@ecommerce/test-support';
import { startUserStack } from '@ecommerce/user-service/testing';
import { startGateway } from './harness.js';

let db: TestDatabase;
let user: Running;

// The user service with its test-only fault switch on: PUT /internal/fault is a real internal route of it to aim at.
before(async () => ({ db, user } = await startUserStack({ FAULT_INJECTION: 'enabled' })));
after(() => stopAll(user, db));

/** The answer's status, Content-Type and body (the first answer on the connection). */
function answerOf(raw: string): { status: number; type: string; body: string } {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), type: /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body: rest.join('\r\n\r\n') };
}

describe('internal and operational routes through the gateway, however spelled', () => {
  it('when a client aims at a service\'s /internal/fault, /metrics, /readyz or /livez through the gateway by any spelling (dot segments written, percent-encoded or between backslashes, encoded slashes, `;` parameters, a fragment, double slashes, upper case, absolute form), then each is a 4xx problem+json and the service\'s switch is never set nor its metrics shown (property)', async () => {
    const gw = await startGateway({ USER_SERVICE_URL: user.base, PRODUCT_SERVICE_URL: user.base, ORDER_SERVICE_URL: user.base, STOREFRONT_DIR: '/nonexistent-storefront' });
    const prefix = fc.constantFrom('/user', '/product', '/order', '/%75ser', '/us%65r', '/USER', '/user.', '/user;x', '');
    // Ways out of the prefix, as a proxy, a router or a URL parser may read them.
    const escape = fc.constantFrom('/..', '/%2e%2e', '/%2E.', '/.%2e', '/..;', '/..%3B', '%2F..', '%2f%2e%2e', '/\\..', '/%5c..', '\\..', '/./..', '//..', '/..%00', '/.. ', '/%252e%252e', '', '/', '//', '#/..', '?/..');
    const target = fc.constantFrom('/internal/fault', '/metrics', '/readyz', '/livez', '%2Finternal%2Ffault', '/INTERNAL/fault', '/internal/fault/', '/internal//fault', '/%69nternal/fault', '\\internal\\fault');
    const form = fc.constantFrom('origin', 'absolute', 'absolute-userinfo');
    const spelled = fc.record({ prefix, escape, target, form }).map(({ prefix, escape, target, form }) => {
      const path = `${prefix}${escape}${target}`;
      const origin = path.startsWith('/') ? path : `/${path}`;
      return form === 'origin' ? origin : form === 'absolute' ? `http://gateway.test${origin}` : `http://a:b@gateway.test${origin}`;
    })
    // The gateway's own probes, public like the ingress's (its /metrics is on METRICS_PORT): not a service's.
    .filter((spelling) => !/^(?:http:\/\/[^/]*)?\/(?:readyz|livez)$/.test(spelling));
    const body = JSON.stringify({ errorRatio: 1 });
    try {
      await fc.assert(
        fc.asyncProperty(spelled, async (spelling) => {
          for (const method of ['PUT', 'GET']) {
            const request =
              method === 'PUT'
                ? `PUT ${spelling} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
                : `GET ${spelling} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
            const raw = await rawExchange(gw.base, request);
            const { status, type, body: answer } = answerOf(raw);
            // Not valid HTTP at all (a space or NUL in the target) is Node's parser's 400, a problem too.
            assert.ok(status >= 400 && status < 500, `${method} ${spelling}: ${raw.slice(0, 300)}`);
            assert.match(type, /^application\/problem\+json/, `${method} ${spelling}`);
            assert.doesNotMatch(answer, /errorRatio|# HELP|# TYPE|service="user"/, `${method} ${spelling}`);
          }
        }),
        {
          numRuns: 150,
          examples: [['/user/../internal/fault'], ['http://gateway.test/user/%2e%2e/internal/fault'], ['http://gateway.test/internal/fault'], ['/%75ser/..;/metrics'], ['/user/\\..\\internal\\fault']],
        },
      );
      // The switch was never set: the user service answers directly, unfaulted, and so through the gateway.
      for (const base of [user.base, gw.base]) assert.equal((await http(base, 'GET', '/user/.well-known/jwks.json')).status, 200, base);
      // And it is there (the property aimed at something real): set directly to 0, it answers.
      assert.equal((await http(user.base, 'PUT', '/internal/fault', { body: { errorRatio: 0 } })).status, 200);
    } finally {
      await gw.app.close();
    }
  });
});

describe('framing a hop in front could read another way', () => {
  it('when a request\'s framing is refused (Content-Length with Transfer-Encoding, two lengths, a coding before or after chunked, obs-fold, a bare LF or CR, a bad chunk), then it is a 4xx problem+json (501 for a coding not served), its connection is closed, and the request written behind it on that connection never reaches a service', async () => {
    const hits: string[] = [];
    const upstream = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const gw = await startGateway({ USER_SERVICE_URL: upstreamUrl, PRODUCT_SERVICE_URL: upstreamUrl, ORDER_SERVICE_URL: upstreamUrl, STOREFRONT_DIR: '/nonexistent-storefront' });
    const json = '{"a":1}';
    const chunked = `7\r\n${json}\r\n0\r\n\r\n`;
    const behind = 'POST /order/SMUGGLED HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    const post = (headers: string, rest: string) => `POST /order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n\r\n${rest}${behind}`;
    const framings: [string, string, number][] = [
      ['Content-Length and Transfer-Encoding', post('Content-Length: 4\r\nTransfer-Encoding: chunked', '0\r\n\r\n'), 400],
      ['Transfer-Encoding and Content-Length', post(`Transfer-Encoding: chunked\r\nContent-Length: ${chunked.length + 20}`, chunked), 400],
      ['two Content-Lengths', post('Content-Length: 7\r\nContent-Length: 0', json), 400],
      ['a Content-Length list', post('Content-Length: 7, 7', json), 400],
      ['a signed Content-Length', post('Content-Length: +7', json), 400],
      ['chunked then identity', post('Transfer-Encoding: chunked, identity', chunked), 400],
      ['chunked on two lines', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', chunked), 400],
      ['chunked twice', post('Transfer-Encoding: chunked, chunked', chunked), 400],
      ['an unknown coding alone', post('Transfer-Encoding: xchunked', chunked), 400],
      ['a space before the colon', post('Transfer-Encoding : chunked', chunked), 400],
      ['obs-fold', post('Transfer-Encoding: identity\r\n chunked', chunked), 400],
      ['a bare LF between fields', post('X-A: 1\nTransfer-Encoding: chunked', chunked), 400],
      ['a bare CR between fields', post('X-A: 1\rTransfer-Encoding: chunked', chunked), 400],
      ['a chunk size ended by a bare LF', post('Transfer-Encoding: chunked', `7\n${json}\r\n0\r\n\r\n`), 400],
      ['a chunk longer than its size', post('Transfer-Encoding: chunked', `7\r\n${json}XX\r\n0\r\n\r\n`), 400],
      ['a chunk size past 2^64', post('Transfer-Encoding: chunked', `FFFFFFFFFFFFFFFFF\r\n${json}\r\n0\r\n\r\n`), 400],
      // Framed by their last coding, chunked, but a hop that read `identity` (RFC 2616) or an unknown coding as no
      // framing at all took what follows the head for the next request: 501, and nothing after it is read.
      ['identity then chunked', post('Transfer-Encoding: identity, chunked', chunked), 501],
      ['identity and chunked on two lines', post('Transfer-Encoding: identity\r\nTransfer-Encoding: chunked', chunked), 501],
      ['gzip then chunked', post('Transfer-Encoding: gzip, chunked', chunked), 501],
      ['an unknown coding then chunked', post('Transfer-Encoding: xyz, chunked', chunked), 501],
    ];
    try {
      for (const [what, request, expected] of framings) {
        hits.length = 0;
        const raw = await rawExchange(gw.base, request);
        const { status, type } = answerOf(raw);
        assert.equal(status, expected, `${what}: ${raw.slice(0, 300)}`);
        assert.match(type, /^application\/problem\+json/, what);
        // One answer, then the connection closed (rawExchange reads until it is): nothing behind it served.
        assert.equal(raw.match(/HTTP\/1\.1 \d{3} /g)?.length, 1, `${what}: ${raw}`);
        assert.deepEqual(hits, [], what);
      }
      // A protocol switch asked of the gateway (h2c, a WebSocket handshake: h2c smuggling tunnels past a proxy that
      // forwards it): no 101, the upstream sees no Upgrade nor HTTP2-Settings, and the request behind is never read.
      const seen: IncomingHttpHeaders[] = [];
      upstream.on('request', (req: IncomingMessage) => seen.push(req.headers));
      for (const upgrade of ['Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13']) {
        hits.length = 0;
        seen.length = 0;
        const raw = await rawExchange(gw.base, `GET /user/x HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n\r\n${behind}`);
        assert.equal(answerOf(raw).status, 200, raw.slice(0, 300));
        assert.equal(raw.match(/HTTP\/1\.1 \d{3} /g)?.length, 1, raw);
        assert.deepEqual(hits, ['GET /user/x'], upgrade);
        for (const name of ['upgrade', 'http2-settings']) assert.equal(seen[0]?.[name], undefined, name);
        assert.doesNotMatch(String(seen[0]?.connection), /upgrade/i);
      }
      // The same request framed plainly is served, and so is the one behind it.
      hits.length = 0;
      const plain = await rawExchange(gw.base, post(`Transfer-Encoding: chunked`, chunked).replace('{}', '{}').replace(/Content-Length: 2\r\n\r\n\{\}$/, 'Content-Length: 2\r\nConnection: close\r\n\r\n{}'));
      assert.equal(plain.match(/HTTP\/1\.1 200 /g)?.length, 2, plain);
      assert.deepEqual(hits, ['POST /order', 'POST /order/SMUGGLED']);
    } finally {
      await gw.app.close();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});
