// Hostile requests on the wire, written byte by byte to the real processes (the gateway and each service on its own
// port), for what a fetch client never sends: a protocol-switch request with more after it, an HTTP/1.0 request framed
// chunked, a Host that is no host.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { createCustomer, createProduct, http, login } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gw: string;
let admin: string;
let customer: string;
let productId: string;

before(async () => {
  platform = await startPlatform();
  gw = platform.procs.gateway.base;
  admin = await login(gw, platform.admin.email, platform.admin.password);
  customer = (await createCustomer(gw, 'wire')).token;
  productId = (await createProduct(gw, admin, { sku: `W-${Date.now()}`, name: 'Wire', priceCents: 100, stock: 10, category: 'test' })).id;
});
after(async () => {
  await platform?.stop();
});

function assertAllAlive(): void {
  for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${p.name} exited: ${JSON.stringify(p.exit)}\n${p.lines.slice(-10).join('\n')}`);
}

interface Exchange {
  /** The status of each answer read, in order (interim 1xx left out). */
  statuses: number[];
  /** Each answer's head, for messages. */
  heads: string[];
  /** Whether the server closed the connection within the time given. */
  closed: boolean;
}

/**
 * Writes each part on one loopback connection (`gapMs` apart), then waits up to `waitMs` for the server to close it.
 * The answers are framed by Content-Length (every answer of ours has one); a HEAD's has no body.
 */
async function exchange(port: number, parts: string[], opts: { gapMs?: number; waitMs: number; headFirst?: boolean; answers?: number }): Promise<Exchange> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  let enough = () => undefined as void;
  const answered = new Promise<void>((resolve) => (enough = resolve));
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    data += d;
    // Done early once that many final answers have come (their heads; a last body may still be on its way).
    if (opts.answers !== undefined && (data.match(/HTTP\/1\.1 [2-5]\d\d/g) ?? []).length >= opts.answers) setTimeout(enough, 50);
  });
  socket.on('error', () => undefined);
  const ended = Promise.race([answered, new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())))]);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const part of parts) {
    socket.write(part);
    await sleep(opts.gapMs ?? 0);
  }
  await Promise.race([ended, sleep(opts.waitMs)]);
  socket.destroy();
  const statuses: number[] = [];
  const heads: string[] = [];
  let rest = data;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    const bodyless = status < 200 || status === 204 || status === 304 || (opts.headFirst === true && statuses.length === 0);
    rest = rest.slice(end + 4 + (bodyless ? 0 : Number(length ?? 0)));
    if (status >= 200) {
      statuses.push(status);
      heads.push(head.split('\r\n')[0]!);
    }
  }
  return { statuses, heads, closed };
}

const portOf = (base: string) => Number(new URL(base).port);

describe('a request that asks to switch protocols (Upgrade and Connection: upgrade)', () => {
  // Node's parser stops reading HTTP after such a request; no server here switches, so each is served as a plain one.
  const FOLLOW_UP = 'GET /livez HTTP/1.1\r\nHost: follow.up\r\n\r\n';

  it('when one comes with a pipelined request or with bytes after it, then it is answered and the next request is answered too or the connection closed at once: never left unanswered on an open connection', async () => {
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
    // "upgrade" as a token of Connection, in any case, alone or among others.
    const connection = fc
      .tuple(fc.constantFrom('upgrade', 'Upgrade', 'UPGRADE', 'uPgRaDe'), fc.subarray(['keep-alive', 'HTTP2-Settings', 'te']), fc.boolean())
      .map(([u, others, first]) => (first ? [u, ...others] : [...others, u]).join(', '));
    const protocol = fc.oneof(fc.constantFrom('websocket', 'h2c', 'TLS/1.2', 'HTTP/2.0'), token);
    const target = fc.constantFrom(
      { server: 'gateway', method: 'GET', path: '/product?limit=1', body: '' },
      { server: 'gateway', method: 'HEAD', path: '/user/.well-known/jwks.json', body: '' },
      { server: 'gateway', method: 'GET', path: '/no/such/route', body: '' },
      { server: 'gateway', method: 'POST', path: '/user/login', body: '{}' },
      { server: 'user', method: 'GET', path: '/user/.well-known/jwks.json', body: '' },
      { server: 'product', method: 'GET', path: '/product?limit=1', body: '' },
      { server: 'order', method: 'GET', path: '/order', body: '' },
    );
    // What follows: a request in the same packet (pipelined), or later; or bytes that are no HTTP, then a request.
    const after = fc.constantFrom('pipelined', 'later', 'garbage-then-request');
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(target, protocol, connection, after, async (t, proto, conn, follow) => {
        runs++;
        const bodyHeaders = t.body ? `Content-Type: application/json\r\nContent-Length: ${t.body.length}\r\n` : '';
        const request = `${t.method} ${t.path} HTTP/1.1\r\nHost: x\r\nUpgrade: ${proto}\r\nConnection: ${conn}\r\n${bodyHeaders}\r\n${t.body}`;
        const parts = follow === 'pipelined' ? [request + FOLLOW_UP] : follow === 'later' ? [request, FOLLOW_UP] : [request, 'NOT HTTP AT ALL\r\n\r\n', FOLLOW_UP];
        const base = platform.procs[t.server as 'gateway' | 'user' | 'product' | 'order'].base;
        const seen = await exchange(portOf(base), parts, { gapMs: 150, waitMs: latencyBound(3000), headFirst: t.method === 'HEAD' });
        const what = `${t.server} ${t.method} ${t.path} Upgrade: ${proto}, Connection: ${conn}, then ${follow}: ${JSON.stringify(seen)}`;
        assert.ok(seen.statuses.length >= 1, `no answer: ${what}`);
        assert.ok(seen.statuses[0]! < 500, what);
        // The follow-up answered (200 /livez), or the connection closed so the client sends it again on a new one.
        const answered = seen.statuses.includes(200) && seen.statuses.length >= 2;
        assert.ok(answered || seen.closed, `the request after it was left unanswered on an open connection: ${what}`);
      }),
      { numRuns: 40 },
    );
    assert.equal(runs, 40);
    assertAllAlive();
  });

  it('when a client keeps sending bytes after one, then the connection is closed after the answer, not read and dropped until the header timeout', async () => {
    const socket = connect(portOf(gw), '127.0.0.1');
    let closedAt = 0;
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    socket.on('close', () => (closedAt = Date.now()));
    socket.write('GET /product?limit=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    // Up to 4 MiB that are no HTTP, 64 KiB at a time: read and dropped, no 400, until the 10 s header timeout.
    const chunk = 'A'.repeat(64 * 1024);
    const t0 = Date.now();
    let sent = 0;
    while (closedAt === 0 && sent < 64 && Date.now() - t0 < latencyBound(5000)) {
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), sleep(200)]);
      sent++;
      await sleep(20);
    }
    await Promise.race([new Promise((r) => socket.once('close', r)), sleep(1000)]);
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.ok(closedAt > 0, `the connection stayed open while ${sent} x 64 KiB were sent after the answer`);
    assertAllAlive();
  });

  it('when the same request comes without `upgrade` in Connection, then its connection is kept alive as usual', async () => {
    for (const extra of ['Upgrade: websocket\r\n', 'Connection: keep-alive\r\nUpgrade: websocket\r\n', 'Connection: upgraded\r\nUpgrade: h2c\r\n']) {
      const seen = await exchange(portOf(gw), [`GET /product?limit=1 HTTP/1.1\r\nHost: x\r\n${extra}\r\n${FOLLOW_UP}`], { waitMs: latencyBound(3000), answers: 2 });
      assert.deepEqual(seen, { statuses: [200, 200], heads: ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], closed: false }, extra);
    }
  });
});

describe('an HTTP/1.0 request with Transfer-Encoding (RFC 9112 6.1: framing to be treated as faulty)', () => {
  it('when one asks to be kept alive and another request follows it, then it is answered and the connection closed: what follows is neither answered nor run', async () => {
    const target = fc.constantFrom(
      { server: 'gateway', path: '/user/login', body: '{}' },
      { server: 'gateway', path: '/order', body: '{"items":[]}' },
      { server: 'gateway', path: '/no/such/route', body: '{}' },
      { server: 'user', path: '/user/login', body: '{"email":"a@example.test","password":"x"}' },
      { server: 'product', path: '/product', body: '{}' },
      { server: 'order', path: '/order', body: '{}' },
    );
    const coding = fc.constantFrom('chunked', 'Chunked', 'gzip, chunked', 'identity');
    const keepAlive = fc.constantFrom('Connection: keep-alive\r\n', 'Connection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n');
    // The follow-up in the same packet, or in one of its own after the answer.
    const later = fc.boolean();
    const stockBefore = (await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock;
    const ordersBefore = (await http<{ items: unknown[] }>(gw, 'GET', '/order?limit=100', { token: customer })).body.items.length;
    const emails: string[] = [];
    // A follow-up that changes something where it is served: a restock, a registration, an order.
    const followUp = (server: string): string => {
      const send = (path: string, body: string, headers: string) =>
        `POST ${path} HTTP/1.1\r\nHost: smuggled\r\n${headers}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      if (server === 'user') {
        const email = `smuggled.${emails.length}.${Date.now()}@example.test`;
        emails.push(email);
        return send('/user/register', JSON.stringify({ email, password: 'correct-horse-1', name: 'S' }), '');
      }
      if (server === 'order') return send('/order', JSON.stringify({ items: [{ productId, quantity: 1 }] }), `Authorization: Bearer ${customer}\r\nIdempotency-Key: smuggled-${Math.random()}\r\n`);
      return send(`/product/${productId}/stock`, '{"delta":1}', `Authorization: Bearer ${admin}\r\n`);
    };
    await fc.assert(
      fc.asyncProperty(target, coding, keepAlive, later, async (t, te, ka, separately) => {
        const request = `POST ${t.path} HTTP/1.0\r\nHost: x\r\n${ka}Transfer-Encoding: ${te}\r\nContent-Type: application/json\r\n\r\n${t.body.length.toString(16)}\r\n${t.body}\r\n0\r\n\r\n`;
        const follow = followUp(t.server);
        const base = platform.procs[t.server as 'gateway' | 'user' | 'product' | 'order'].base;
        const seen = await exchange(portOf(base), separately ? [request, follow] : [request + follow], { gapMs: 150, waitMs: latencyBound(2000) });
        const what = `${t.server} POST ${t.path} HTTP/1.0, ${ka.trim()}, Transfer-Encoding: ${te}, follow-up ${separately ? 'later' : 'pipelined'}: ${JSON.stringify(seen)}`;
        assert.equal(seen.statuses.length, 1, what);
        assert.ok((seen.statuses[0]! >= 400 && seen.statuses[0]! < 500) || seen.statuses[0] === 501, what);
        assert.equal(seen.closed, true, what);
      }),
      { numRuns: 30 },
    );
    await sleep(300);
    assert.equal((await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock, stockBefore, 'no restock ran');
    assert.equal((await http<{ items: unknown[] }>(gw, 'GET', '/order?limit=100', { token: customer })).body.items.length, ordersBefore, 'no order placed');
    const users = (await http<{ items: { email: string }[] }>(gw, 'GET', '/user/users?limit=100', { token: admin })).body.items.map((u) => u.email);
    assert.deepEqual(users.filter((e) => emails.includes(e)), [], 'no account registered');
    assertAllAlive();
  });
});

describe('a request pipelined behind one whose answer closes the connection', () => {
  it('when restocks follow refused requests on one connection, then a restock runs only if it is answered: stock = before + the restocks answered 200', async () => {
    const firsts = fc.constantFrom(
      // 413 before the body is read (announced over the limit), the body sent whole anyway.
      { name: 'body over the limit', text: `POST /product/${'<id>'}/stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1100000\r\n\r\n${'x'.repeat(1_100_000)}` },
      { name: 'malformed JSON', text: `POST /product/<id>/stock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer <admin>\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{{{` },
      { name: 'Expect: foo', text: `POST /product/<id>/stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n{}` },
      { name: 'Upgrade', text: `GET /product?limit=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n` },
      { name: 'HTTP/1.0 chunked', text: `POST /product/<id>/stock HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n` },
      { name: 'Content-Encoding gzip (kept alive)', text: `POST /product/<id>/stock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer <admin>\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}` },
      { name: 'no token (kept alive)', text: `POST /product/<id>/stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}` },
    );
    const server = fc.constantFrom('gateway', 'product');
    const restock = `POST /product/<id>/stock HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer <admin>\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"delta":1}`;
    const fill = (text: string) => text.replaceAll('<id>', productId).replaceAll('<admin>', admin);
    const stockBefore = (await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(firsts, server, fc.integer({ min: 1, max: 3 }), async (first, at, restocks) => {
        const base = platform.procs[at as 'gateway' | 'product'].base;
        const seen = await exchange(portOf(base), [fill(first.text) + fill(restock).repeat(restocks)], { waitMs: latencyBound(1500), answers: 1 + restocks });
        assert.ok(seen.statuses.length >= 1 && seen.statuses[0]! < 500, `${first.name} at ${at}: ${JSON.stringify(seen)}`);
        answered += seen.statuses.slice(1).filter((s) => s === 200).length;
      }),
      { numRuns: 30 },
    );
    await sleep(300);
    const stockAfter = (await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock;
    assert.equal(stockAfter - stockBefore, answered, `restocks run ${stockAfter - stockBefore}, answered ${answered}`);
    assert.ok(answered > 0, 'some restocks were answered (behind the requests that keep their connection)');
    assertAllAlive();
  });
});

describe('the Host header', () => {
  const validHost = fc.oneof(
    fc.domain(),
    fc.ipV4(),
    fc.ipV6().map((a) => `[${a}]`),
    fc.constantFrom('localhost', 'ecommerce.local', 'my_host', 'a-b.c~d', '%41b', ''),
  );
  const withPort = (host: fc.Arbitrary<string>) => fc.tuple(host, fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
  // A valid host spoiled by one character a host cannot hold (RFC 3986 3.2.2: no space, /, ?, #, @, quote, non-ASCII),
  // a port that is no number, an unclosed or empty IPv6 literal, or a broken %-escape.
  const invalidHost = fc.oneof(
    fc
      .tuple(fc.domain(), fc.constantFrom(' ', '/', '?', '#', '@', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '[', ']', '\u00e9', '\u00ff'), fc.nat())
      // Inside the value: a space at either end is no part of it (optional whitespace around a field value).
      .map(([h, c, at]) => h.slice(0, 1 + (at % (h.length - 1))) + c + h.slice(1 + (at % (h.length - 1)))),
    fc.tuple(fc.domain(), fc.stringMatching(/^[0-9]{0,3}[a-z:.][0-9a-z]{0,3}$/)).map(([h, p]) => `${h}:${p}`),
    fc.ipV6().map((a) => `[${a}`),
    fc.constantFrom('[]', '[1:2]', '[::1]x', '%zz', '%4', 'a b', 'user@host', 'x:80:90'),
  );

  it('when it holds a host name or address, with or without a port, then the request is served as usual', async () => {
    await fc.assert(
      fc.asyncProperty(withPort(validHost), async (host) => {
        const seen = await exchange(portOf(gw), [`GET /product?limit=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`], { waitMs: latencyBound(2000) });
        assert.deepEqual(seen.statuses, [200], `Host: ${host} ${JSON.stringify(seen)}`);
      }),
      { numRuns: 60 },
    );
  });

  it('when it holds anything else, then 400 problem+json at headers/host from the gateway and from each service, and an order or a restock sent so changes nothing', async () => {
    const stockBefore = (await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock;
    const ordersBefore = (await http<{ items: unknown[] }>(gw, 'GET', '/order?limit=100', { token: customer })).body.items.length;
    const order = JSON.stringify({ items: [{ productId, quantity: 1 }] });
    const restock = JSON.stringify({ delta: 5 });
    const requests = (host: string) => [
      { base: gw, text: `GET /product?limit=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n` },
      { base: gw, text: `POST /order HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${customer}\r\nIdempotency-Key: host-${Math.random()}\r\nContent-Type: application/json\r\nContent-Length: ${order.length}\r\nConnection: close\r\n\r\n${order}` },
      { base: gw, text: `POST /product/${productId}/stock HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: ${restock.length}\r\nConnection: close\r\n\r\n${restock}` },
      { base: platform.procs.user.base, text: `GET /user/.well-known/jwks.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n` },
      { base: platform.procs.product.base, text: `GET /product/${productId} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n` },
      { base: platform.procs.order.base, text: `POST /order HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${customer}\r\nIdempotency-Key: host-${Math.random()}\r\nContent-Type: application/json\r\nContent-Length: ${order.length}\r\nConnection: close\r\n\r\n${order}` },
    ];
    await fc.assert(
      fc.asyncProperty(invalidHost, fc.nat(), async (host, pick) => {
        const all = requests(host);
        const { base, text } = all[pick % all.length]!;
        const answer = await new Promise<string>((resolve) => {
          let data = '';
          const s = connect(portOf(base), '127.0.0.1', () => s.write(Buffer.from(text, 'latin1')));
          s.setEncoding('latin1');
          s.on('data', (d: string) => (data += d));
          s.on('error', () => undefined);
          s.on('close', () => resolve(data));
          setTimeout(() => (s.destroy(), resolve(data)), latencyBound(3000)).unref();
        });
        const what = `Host: ${JSON.stringify(host)} ${text.split('\r\n')[0]} at ${base}: ${answer.slice(0, 300)}`;
        assert.match(answer, /^HTTP\/1\.1 400 /, what);
        assert.match(answer, /\r\ncontent-type: application\/problem\+json/i, what);
        assert.match(answer, /"path":"headers\/host"/, what);
      }),
      { numRuns: 120 },
    );
    assert.equal((await http<{ stock: number }>(gw, 'GET', `/product/${productId}`)).body.stock, stockBefore, 'stock unchanged');
    assert.equal((await http<{ items: unknown[] }>(gw, 'GET', '/order?limit=100', { token: customer })).body.items.length, ordersBefore, 'no order placed');
    assertAllAlive();
  });
});
