// Hand-written hostile requests from the #8 findings, against the real processes (128 MB heap): each
// once took a service down, answered megabytes, a 500 or a non-problem body.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCustomer, createProduct, http, login, serviceToken, timed, uniqueEmail, type HttpResult } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gw: string;
let customer: string;
let admin: string;
let service: string;
let productId: string;

before(async () => {
  platform = await startPlatform();
  gw = platform.procs.gateway.base;
  admin = await login(gw, platform.admin.email, platform.admin.password);
  customer = (await createCustomer(gw, 'hostile')).token;
  service = await serviceToken(platform.procs.user.base, platform.orderClient);
  productId = (await createProduct(gw, admin, { sku: `H-${Date.now()}`, name: 'Hostile', priceCents: 100, stock: 10, category: 'test' })).id;
});
after(async () => {
  await platform?.stop();
});

const MAX_ERROR_BODY = 16 * 1024;

function assertSmallProblem(res: HttpResult, statuses: number[], what: string): void {
  assert.ok(statuses.includes(res.status), `${what}: status ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.ok(res.text.length < MAX_ERROR_BODY, `${what}: error body of ${res.text.length} bytes`);
  assert.doesNotMatch(res.text, /fastify|FST_|ajv/i, what);
}

function assertAllAlive(): void {
  for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${p.name} exited: ${JSON.stringify(p.exit)}\n${p.lines.slice(-10).join('\n')}`);
}

async function rawExchange(port: number, request: string | Buffer, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(data));
    socket.write(request);
    setTimeout(() => (socket.destroy(), resolve(data)), ms).unref();
  });
}

describe('one request never takes a service down', () => {
  it('when an order or a reservation has 150,000 empty items (~450 KB), then a small 4xx problem fast, and every process lives', async () => {
    const items = `[${Array(150_000).fill('{}').join(',')}]`;
    for (const [base, path, token, body] of [
      [gw, '/order', customer, `{"items":${items}}`],
      [platform.procs.order.base, '/order', customer, `{"items":${items}}`],
      [platform.procs.product.base, '/internal/reservations', service, `{"orderId":"0190b0d6-2b7c-7000-8000-000000000001","items":${items}}`],
    ] as const) {
      const { res, ms } = await timed(() => http(base, 'POST', path, { token, raw: body, headers: { 'content-type': 'application/json', 'idempotency-key': 'k-150k' } }));
      assertSmallProblem(res, [400, 413], `${base}${path}`);
      assert.ok(ms < latencyBound(2000), `${path} took ${Math.round(ms)} ms`);
    }
    assertAllAlive();
  });

  it('when 60,000 items or 100,000 keys reach the validator, then one error is listed, not one per item', async () => {
    for (const raw of [`{"name":[${Array(60_000).fill('{}').join(',')}]}`, `{${Array.from({ length: 100_000 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`]) {
      const { res, ms } = await timed(() => http(gw, 'PATCH', `/product/${productId}`, { token: admin, raw, headers: { 'content-type': 'application/json' } }));
      // 400 when the route reads that much, 413 when its body limit is smaller: either way small and fast.
      assertSmallProblem(res, [400, 413], `patch with ${raw.length} bytes`);
      const errors = (res.body as { errors?: unknown[] }).errors ?? [];
      if (res.status === 400) assert.ok(errors.length >= 1 && errors.length <= 20, `errors listed: ${errors.length}`);
      assert.ok(ms < latencyBound(2000), `took ${Math.round(ms)} ms`);
    }
  });

  it('when six registrations with 100,000 unknown keys each arrive at once, then each is a small 400 and /livez keeps answering', async () => {
    const body = `{${Array.from({ length: 100_000 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`;
    assert.ok(body.length < 1024 * 1024, 'under the 1 MiB limit, so the validator sees it');
    const attacks = Array.from({ length: 6 }, () => timed(() => http(gw, 'POST', '/user/register', { raw: body, headers: { 'content-type': 'application/json' } })));
    const live = await timed(() => http(platform.procs.user.base, 'GET', '/livez'));
    assert.equal(live.res.status, 200);
    assert.ok(live.ms < latencyBound(1000), `/livez took ${Math.round(live.ms)} ms during the attack`);
    for (const { res, ms } of await Promise.all(attacks)) {
      // A registration is a few hundred bytes: its route reads at most 16 KiB, so this is a 413 unread.
      assertSmallProblem(res, [413], 'registration with 100,000 unknown keys');
      assert.ok(ms < latencyBound(2000), `took ${Math.round(ms)} ms`);
    }
    assertAllAlive();
  });
});

describe('NUL characters', () => {
  it('when a NUL arrives in a query, a body, a path parameter or a header-borne key, then 400 problem+json, never 500', async () => {
    const cases: [string, string, string, unknown, Record<string, string>?][] = [
      ['GET', '/product?q=a%00b', '', undefined],
      ['GET', '/product?category=%00', '', undefined],
      ['GET', '/product/%00', '', undefined],
      ['GET', `/product/${productId}%00`, '', undefined],
      ['POST', '/user/register', '', { email: uniqueEmail('nul'), password: 'password-123', name: 'a\u0000b' }],
      ['POST', '/user/login', '', { email: 'a\u0000@example.test', password: 'password-123' }],
      ['POST', '/product', admin, { sku: 'NUL\u0000SKU', name: 'n', priceCents: 1, stock: 1, category: 'c' }],
      ['PATCH', `/product/${productId}`, admin, { description: 'x\u0000y' }],
      ['POST', '/order', customer, { items: [{ productId, quantity: 1 }], note: '\u0000' }],
      ['GET', '/order?cursor=%00', customer, undefined],
      ['GET', '/order/%00', customer, undefined],
      ['POST', '/order', customer, { items: [{ productId, quantity: 1 }] }, { 'idempotency-key': 'ok' }],
    ];
    for (const [method, path, token, body, headers] of cases.slice(0, -1)) {
      const res = await http(gw, method, path, { token: token || undefined, body, headers: { 'idempotency-key': `nul-${method}-${path}`, ...headers } });
      assertSmallProblem(res, [400], `${method} ${path} ${JSON.stringify(body)}`);
    }
    // Node's parser refuses a raw NUL in a header line itself; that answer is a problem too.
    const raw = await rawExchange(Number(new URL(gw).port), `GET /product HTTP/1.1\r\nHost: x\r\nX-Thing: a\u0000b\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.match(raw, /content-type: application\/problem\+json/i);
    assertAllAlive();
  });
});

describe('framework errors are problems too', () => {
  it('when an id is over-long, then 404 like any unknown id', async () => {
    const long = 'a'.repeat(5000);
    for (const [base, path, token] of [
      [gw, `/product/${long}`, ''],
      [gw, `/order/${long}`, customer],
      [gw, `/order/${'b'.repeat(101)}/cancel`, customer],
      [platform.procs.product.base, `/internal/reservations/${long}`, service],
    ] as const) {
      const res = await http(base, path.includes('cancel') ? 'POST' : 'GET', path, { token: token || undefined });
      assertSmallProblem(res, [404], path.slice(0, 40));
    }
  });

  it('when percent-encoding is broken, headers are huge or the URL is huge, then problem+json (400, 431), directly and through the gateway', async () => {
    for (const base of [gw, platform.procs.product.base]) {
      const bad = await http(base, 'GET', '/product/%E0%A4%A');
      assertSmallProblem(bad, [400, 404], `${base} bad percent-encoding`);
      const port = Number(new URL(base).port);
      for (const request of [
        `GET /product HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
        `GET /product?q=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ]) {
        const raw = await rawExchange(port, request);
        assert.match(raw, /^HTTP\/1\.1 431/, `${base}: ${raw.slice(0, 200)}`);
        assert.match(raw, /content-type: application\/problem\+json/i);
        const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { status: number; type: string };
        assert.equal(body.status, 431);
      }
      const garbage = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
      assert.match(garbage, /^HTTP\/1\.1 400[\s\S]*application\/problem\+json/i);
    }
    assertAllAlive();
  });
});

describe('tokens', () => {
  it('when a correctly signed user token has a sub that is not a UUID, then 401 on every service, never 500', async () => {
    for (const sub of ['not-a-uuid', 'admin', '1', "x' OR 1=1 --", 'a'.repeat(300)]) {
      for (const role of ['customer', 'admin']) {
        const token = await platform.signUserToken({ role }, sub);
        for (const [method, path, body] of [
          ['GET', '/order', undefined],
          ['POST', '/order', { items: [{ productId, quantity: 1 }] }],
          ['GET', '/user/me', undefined],
        ] as const) {
          const res = await http(gw, method, path, { token, body, headers: { 'idempotency-key': `sub-${sub.length}-${role}` } });
          assertSmallProblem(res, [401], `${method} ${path} sub=${sub.slice(0, 20)} role=${role}`);
        }
      }
    }
    // The same key with a UUID sub is accepted: the refusal is about the sub, not the signature.
    const ok = await platform.signUserToken({ role: 'customer' }, '0190b0d6-2b7c-7000-8000-000000000009');
    assert.equal((await http(gw, 'GET', '/order', { token: ok })).status, 200);
  });
});

describe('slow clients', () => {
  it('when a client trickles its body (1 byte every 2 s), then the gateway and the service cut it off within 25 s and stay healthy', async () => {
    const started = Date.now();
    const trickle = (port: number) =>
      new Promise<{ ms: number; data: string }>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (data += d));
        socket.on('error', () => undefined);
        socket.write(`POST /user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
        const timer = setInterval(() => socket.write(' '), 2000);
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ ms: Date.now() - started, data });
        });
        setTimeout(() => socket.destroy(), 60_000).unref();
      });
    const [viaGateway, direct] = await Promise.all([trickle(Number(new URL(gw).port)), trickle(Number(new URL(platform.procs.user.base).port))]);
    for (const [what, r] of [['gateway', viaGateway], ['user service', direct]] as const) {
      assert.ok(r.ms < 25_000, `${what} held the trickling connection for ${r.ms} ms`);
      // Either a 408 problem or a plain close: never a success and never held open.
      if (r.data) assert.match(r.data, /^HTTP\/1\.1 (408|400|503|504)/, `${what}: ${r.data.slice(0, 200)}`);
    }
    await sleep(100);
    assert.equal((await http(gw, 'GET', '/livez')).status, 200);
    assert.equal((await http(platform.procs.user.base, 'GET', '/readyz')).status, 200);
    assertAllAlive();
  });
});
