// Properties of raw requests a fetch client cannot send, written byte by byte to the real processes (the gateway and
// each service on its own port): an Idempotency-Key of any bytes (obs-text, controls, commas, blanks, over-long), any
// Expect, and a keyed write with repeated or odd headers. Each request is judged against docs/api.md, and the state
// behind it too: a key names one thing whichever way it came, a refused request changes nothing, an accepted one
// counts once.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createCustomer, createProduct, http, login } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform } from '../src/platform.js';

let platform: Platform;
let gw: string;
let admin: string;
let customer: string;

before(async () => {
  // Registrations here come from one address: its budget is not what these properties look at.
  platform = await startPlatform({ serviceEnv: { user: { REGISTER_MAX_PER_ADDRESS: '10000' } } });
  gw = platform.procs.gateway.base;
  admin = await login(gw, platform.admin.email, platform.admin.password);
  customer = (await createCustomer(gw, 'wireprop')).token;
});
after(async () => {
  await platform?.stop();
});

function assertAllAlive(): void {
  for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${p.name} exited: ${JSON.stringify(p.exit)}\n${p.lines.slice(-10).join('\n')}`);
}

type Server = 'gateway' | 'user' | 'product' | 'order';
const portOf = (server: Server) => Number(new URL(platform.procs[server].base).port);

interface Answer {
  /** Statuses in order, interim (1xx) ones included. */
  statuses: number[];
  /** The final answer's status (undefined when none came). */
  status: number | undefined;
  contentType: string;
  body: string;
  ms: number;
}

/** Reads `raw` (latin1 text of one HTTP/1.1 exchange) into its statuses and its final answer. */
function parseAnswer(raw: string, ms: number): Answer {
  const statuses = [...raw.matchAll(/(?:^|\r\n)HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  const finalAt = raw.search(/(?:^|\r\n)HTTP\/1\.1 [2-5]\d\d /);
  const final = finalAt === -1 ? '' : raw.slice(finalAt);
  const headEnd = final.indexOf('\r\n\r\n');
  return {
    statuses,
    status: statuses.find((s) => s >= 200),
    contentType: /\r\ncontent-type: *([^\r]*)/i.exec(final)?.[1] ?? '',
    body: headEnd === -1 ? '' : final.slice(headEnd + 4),
    ms,
  };
}

/**
 * Sends a request (head, then body) on a new connection and reads until the server closes it (every request here
 * says `Connection: close`). With `awaitContinue` the body waits for the 100 Continue, as curl does, and is not sent at
 * all when a final answer comes first.
 */
function exchange(server: Server, head: Buffer, body: Buffer, opts: { awaitContinue?: boolean } = {}): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = connect(portOf(server), '127.0.0.1');
    const chunks: Buffer[] = [];
    let bodySent = !opts.awaitContinue;
    const done = () => resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'), performance.now() - t0));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (!bodySent && Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 100 ')) {
        bodySent = true;
        socket.write(body);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.write(opts.awaitContinue ? head : Buffer.concat([head, body]));
    setTimeout(() => (socket.destroy(), done()), latencyBound(5000)).unref();
  });
}

/** A request head: the request line, Host, Connection: close, then `lines` (each latin1, bytes as given). */
function headOf(method: string, target: string, lines: (string | Buffer)[], bodyLength: number): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${bodyLength}\r\n`, 'latin1')];
  for (const line of lines) parts.push(typeof line === 'string' ? Buffer.from(line, 'latin1') : line, Buffer.from('\r\n'));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

function assertProblemAnswer(answer: Answer, status: number, what: string): { errors?: { path: string }[] } {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer)}`);
  assert.match(answer.contentType, /^application\/problem\+json/, `${what}: ${JSON.stringify(answer)}`);
  const problem = JSON.parse(answer.body) as { status: number; errors?: { path: string }[] };
  assert.equal(problem.status, status, what);
  assert.doesNotMatch(answer.body, /FST_|fastify|ajv|node_modules|at \S+\.js:\d|postgres|SELECT|INSERT/i, what);
  return problem;
}

async function productNow(id: string): Promise<{ stock: number; version: number; priceCents: number }> {
  const res = await http<{ stock: number; version: number; priceCents: number }>(platform.procs.product.base, 'GET', `/product/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function orderIds(token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; text: string; body: { items: { id: string }[]; nextCursor: string | null } } = await http(
      platform.procs.order.base,
      'GET',
      `/order?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    assert.equal(res.status, 200, res.text);
    ids.push(...res.body.items.map((o) => o.id));
    cursor = res.body.nextCursor;
  } while (cursor !== null);
  return ids;
}

/**
 * An Idempotency-Key's bytes as a client could put them on the wire: printable ASCII, obs-text (0x80-0xFF, what a
 * UTF-8 or Latin-1 key is there), tabs and spaces (at the ends too), commas, a rare control character (not CR or LF,
 * which end the line), from empty to past the 255-character bound.
 */
const keyByte = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 4, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x20, 0x09, 0x2c) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f) },
);
const keyBytes = fc.oneof(
  fc.array(keyByte, { maxLength: 40 }),
  fc.array(keyByte, { minLength: 250, maxLength: 260 }),
  fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 254, maxLength: 257 }),
  // UTF-8 text: two to four bytes a character on the wire.
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }).map((s) => [...Buffer.from(s, 'utf8')]),
);

/** The key as HTTP defines its value (RFC 9110 5.5: octets, no leading or trailing blanks), or why it is refused. */
function keyAsRead(bytes: number[]): { key: string } | { refused: 'not-http' | 'empty' | 'too-long' } {
  if (bytes.some((b) => (b < 0x20 && b !== 0x09) || b === 0x7f)) return { refused: 'not-http' };
  const key = Buffer.from(bytes).toString('latin1').replace(/^[ \t]+|[ \t]+$/g, '');
  if (key.length === 0) return { refused: 'empty' };
  if (key.length > 255) return { refused: 'too-long' };
  return { key };
}

describe('an Idempotency-Key of any bytes', () => {
  it('when a keyed order, restock or registration is sent with it through the gateway and again directly (or the other way), then both answer alike: the one thing the key names, or the same 400 problem; no key replays another, and stock counts each key once', { timeout: 300_000 }, async () => {
    const product = await createProduct(gw, admin, { name: 'Keys', priceCents: 100, stock: 1_000_000, category: 'test' });
    const initial = await productNow(product.id);
    const orderBody = Buffer.from(JSON.stringify({ items: [{ productId: product.id, quantity: 1 }] }));
    /** What each key (as read) named, per kind: an order id, a delta applied, an account id. */
    const named = { order: new Map<string, string>(), stock: new Map<string, number>(), register: new Map<string, string>() };
    const ordersBefore = (await orderIds(customer)).length;
    const keyRuns = Number(process.env.WIRE_KEY_RUNS ?? 150);
    let accepted = 0;
    const kinds = fc.constantFrom('order', 'order', 'stock', 'stock', 'register');
    await fc.assert(
      fc.asyncProperty(keyBytes, kinds, fc.boolean(), fc.integer({ min: 1, max: 9 }), async (bytes, kind, gatewayFirst, delta) => {
        const read = keyAsRead(bytes);
        const keyLine = Buffer.concat([Buffer.from('Idempotency-Key: '), Buffer.from(bytes)]);
        let send: (server: Server) => Promise<Answer>;
        let direct: Server;
        const email = `wp.${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@example.test`;
        if (kind === 'order') {
          direct = 'order';
          send = (server) => exchange(server, headOf('POST', '/order', [`Authorization: Bearer ${customer}`, 'Content-Type: application/json', keyLine], orderBody.length), orderBody);
        } else if (kind === 'stock') {
          direct = 'product';
          const body = Buffer.from(JSON.stringify({ delta }));
          send = (server) => exchange(server, headOf('POST', `/product/${product.id}/stock`, [`Authorization: Bearer ${admin}`, 'Content-Type: application/json', keyLine], body.length), body);
        } else {
          direct = 'user';
          const body = Buffer.from(JSON.stringify({ email, password: 'correct-horse-battery-9', name: 'Wire' }));
          send = (server) => exchange(server, headOf('POST', '/user/register', ['Content-Type: application/json', keyLine], body.length), body);
        }
        const [firstAt, secondAt] = (gatewayFirst ? ['gateway', direct] : [direct, 'gateway']) as [Server, Server];
        const what = `${kind} key bytes ${JSON.stringify(Buffer.from(bytes).toString('hex'))} first at ${firstAt}`;
        const first = await send(firstAt);
        const second = await send(secondAt);
        for (const [answer, at] of [[first, firstAt], [second, secondAt]] as const) {
          assert.ok(answer.ms < latencyBound(3000), `${what}: ${at} took ${Math.round(answer.ms)} ms`);
          if ('refused' in read) {
            const problem = assertProblemAnswer(answer, 400, `${what} at ${at}`);
            if (read.refused !== 'not-http') assert.ok(problem.errors?.some((e) => e.path === 'headers/idempotency-key'), `${what} at ${at}: ${answer.body}`);
          }
        }
        if ('refused' in read) return;
        accepted++;
        const created = kind === 'stock' ? 200 : 201;
        // Already seen (a key as read again, from other bytes with other blanks at its ends): a replay from the start.
        const seen = kind === 'stock' ? named.stock.has(read.key) : kind === 'order' ? named.order.has(read.key) : named.register.has(read.key);
        // The same key with another email, or another delta: 422 idempotency-key-reused, nothing made or applied.
        if ((kind === 'register' && seen) || (kind === 'stock' && seen && named.stock.get(read.key) !== delta)) {
          assertProblemAnswer(first, 422, `${what} (a key used before, another body)`);
          assertProblemAnswer(second, 422, `${what} (a key used before, another body), again`);
          return;
        }
        assert.equal(first.status, seen ? 200 : created, `${what}: first ${JSON.stringify(first)}`);
        assert.equal(second.status, kind === 'register' ? 201 : 200, `${what}: second ${JSON.stringify(second)}`);
        const a = JSON.parse(first.body) as { id: string; stock?: number };
        const b = JSON.parse(second.body) as { id: string };
        assert.equal(b.id, a.id, `${what}: the second answer names another ${kind}`);
        if (kind === 'order') {
          const owner = [...named.order].find(([k, id]) => id === a.id && k !== read.key);
          assert.equal(owner, undefined, `${what}: answered the order of another key ${JSON.stringify(owner?.[0])}`);
          if (!seen) named.order.set(read.key, a.id);
        } else if (kind === 'register') {
          assert.ok(![...named.register.values()].includes(a.id), `${what}: answered another key's account`);
          named.register.set(read.key, a.id);
        } else if (!seen) named.stock.set(read.key, delta);
      }),
      // Not shrunk: the runs share the database (a key seen stays seen), so a shrunk run would not replay the failure.
      { numRuns: keyRuns, interruptAfterTimeLimit: 200_000, endOnFailure: true },
    );
    assert.ok(accepted >= keyRuns / 8, `only ${accepted} of ${keyRuns} keys were valid ones`);
    // Each order is one unit; each key's restock counted once, whichever way and however often it came.
    const orders = (await orderIds(customer)).length - ordersBefore;
    assert.equal(orders, named.order.size, 'one order per key');
    const restocked = [...named.stock.values()].reduce((sum, d) => sum + d, 0);
    const now = await productNow(product.id);
    assert.equal(now.stock, initial.stock + restocked - named.order.size, `stock ${now.stock}: initial ${initial.stock} + restocks ${restocked} - orders ${named.order.size}`);
    assertAllAlive();
  });
});

describe('Expect', () => {
  /**
   * An Expect field as a client could send it: 100-continue in any case, alone or in a list, with blanks; an
   * expectation no server here serves; empty; any printable or obs-text bytes.
   */
  const caseOf = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');
  const expectValue = fc.oneof(
    fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }).map((flips) => caseOf('100-continue', flips)),
    fc.constantFrom('100-continue ', '\t100-continue', '100-continue, foo', 'foo, 100-continue', '100-continue;q=1'),
    fc.constantFrom('', 'foo', '100', '100-continu', '200-continue', '100-continuex', 'continue', '*', 'gzip', '100-Continue-Please'),
    fc.stringMatching(/^[\x20-\x7e\x80-\xff]{0,30}$/),
  );

  it('when a restock comes with any Expect, through the gateway or directly, sent at once or after a 100 Continue, then it is applied once and answered 200 after a 100, or refused 417 problem+json with nothing applied; never a hang or a 5xx', { timeout: 300_000 }, async () => {
    const product = await createProduct(gw, admin, { name: 'Expect', priceCents: 100, stock: 10, category: 'test' });
    let expected = (await productNow(product.id)).stock;
    const expectRuns = Number(process.env.WIRE_EXPECT_RUNS ?? 150);
    let continued = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(expectValue, fc.constantFrom<Server>('gateway', 'product'), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 9 }), async (expect, at, awaitContinue, keyed, delta) => {
        const body = Buffer.from(JSON.stringify({ delta }));
        const lines = [`Authorization: Bearer ${admin}`, 'Content-Type: application/json', `Expect: ${expect}`, ...(keyed ? [`Idempotency-Key: expect-${Math.random()}`] : [])];
        const answer = await exchange(at, headOf('POST', `/product/${product.id}/stock`, lines, body.length), body, { awaitContinue });
        const what = `Expect: ${JSON.stringify(expect)} at ${at}${awaitContinue ? ', body after the 100' : ''}: ${JSON.stringify(answer)}`;
        assert.ok(answer.ms < latencyBound(3000), `${what}: took ${Math.round(answer.ms)} ms`);
        assert.ok(answer.status === 200 || answer.status === 417, what);
        const said = expect.trim().toLowerCase();
        // Exactly 100-continue (RFC 9110 10.1.1) is served; a value that does not name it at all is not.
        if (said === '100-continue') assert.equal(answer.status, 200, what);
        if (!said.includes('100-continue')) assert.equal(answer.status, 417, what);
        if (answer.status === 200) {
          assert.deepEqual(answer.statuses, [100, 200], what);
          expected += delta;
          continued++;
          assert.equal((JSON.parse(answer.body) as { stock: number }).stock, expected, `${what}: applied other than once`);
        } else {
          assertProblemAnswer(answer, 417, what);
          refused++;
        }
        assert.equal((await productNow(product.id)).stock, expected, `${what}: stock`);
      }),
      { numRuns: expectRuns, interruptAfterTimeLimit: 200_000, endOnFailure: true },
    );
    assert.ok(continued >= expectRuns / 8 && refused >= expectRuns / 8, `${continued} continued, ${refused} refused of ${expectRuns}`);
    assertAllAlive();
  });
});

describe('a keyed write with repeated or odd headers and bodies', () => {
  /** A header line to add: a one-value field again, a precondition, an odd value (obs-text too). */
  const oddValue = fc.oneof(
    fc.stringMatching(/^[\t\x20-\x7e\x80-\xff]{0,30}$/),
    fc.constantFrom('', ',', '"1"', 'W/"1"', '*', '"1", "2"', 'null', '1e400', '-0', 'a, b', 'application/json', 'text/plain', 'gzip', 'identity', 'close, authorization', 'close, idempotency-key'),
  );
  const extraLine = fc.tuple(
    fc.constantFrom('Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key', 'Expect', 'X-Request-Id', 'traceparent', 'tracestate', 'Content-Encoding', 'Connection', 'Cookie', 'Forwarded', 'X-HTTP-Method-Override', 'Range', 'If-Unmodified-Since', 'Host', 'Accept'),
    oddValue,
  );
  const contentType = fc.oneof(
    { weight: 3, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/json;charset=latin1', 'application/json; boundary=----x', 'application/json;', 'application/json ; charset="utf-8"', 'application/json;=;=', 'application/jsonx', 'application/merge-patch+json', 'text/json', '*/*', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''),
    },
  );
  /** A JSON number as written, or a value of another type. */
  const numberToken = fc.constantFrom('1', '3', '-1', '1.0', '1e0', '2E+0', '-0', '0', '1e400', '-1e400', '1e-400', '0.5', '9007199254740993', '1.0000000000000001', '"1"', 'null', 'true', '[]', '{}', '1000', '1001');
  /** The numbers each write takes (quantity 1..1000, a delta not 0, a price from 0), in the spellings numberToken has. */
  const ACCEPTED_TOKENS = {
    order: ['1', '3', '1.0', '1e0', '2E+0', '1000'],
    stock: ['1', '3', '-1', '1.0', '1e0', '2E+0', '1000', '1001'],
    price: ['1', '3', '-0', '0', '1.0', '1e0', '2E+0', '1000', '1001'],
  };
  const bodyChange = fc.constantFrom('none', 'none', 'proto', 'constructor', 'repeated', 'bom', 'trailing', 'escaped-name', 'latin1');

  it('when an order, a restock or a price change is sent so, through the gateway or directly, then a refusal is a 4xx problem+json that changed nothing, and an acceptance did exactly what its body says, once', { timeout: 300_000 }, async () => {
    const product = await createProduct(gw, admin, { name: 'Odd', priceCents: 100, stock: 1_000_000, category: 'test' });
    const writes = fc.constantFrom('order', 'stock', 'price');
    const answered: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        writes,
        fc.boolean(),
        numberToken,
        contentType,
        fc.array(extraLine, { maxLength: 3 }),
        bodyChange,
        fc.boolean(),
        async (write, viaGateway, token, type, extra, change, anonymous) => {
          let target: string;
          let method = 'POST';
          let json: string;
          let auth: string;
          if (write === 'order') {
            target = '/order';
            json = `{"items":[{"productId":"${product.id}","quantity":${token}}]}`;
            auth = customer;
          } else if (write === 'stock') {
            target = `/product/${product.id}/stock`;
            json = `{"delta":${token}}`;
            auth = admin;
          } else {
            target = `/product/${product.id}`;
            method = 'PATCH';
            json = `{"priceCents":${token}}`;
            auth = admin;
          }
          const member = json.match(/"(\w+)":[^"{[]*$/)?.[1] ?? 'x';
          if (change === 'proto') json = json.replace('{', '{"__proto__":{"role":"admin"},');
          if (change === 'constructor') json = json.replace(/\}$/, ',"constructor":{"prototype":{"role":"admin"}}}');
          if (change === 'repeated') json = json.replace(`"${member}":`, `"${member}":1,"${member}":`);
          if (change === 'escaped-name') json = json.replace(`"${member}":`, `"${member}":2,"\\u00${member.charCodeAt(0).toString(16)}${member.slice(1)}":`);
          if (change === 'trailing') json += ' x';
          if (change === 'bom') json = `\ufeff${json}`;
          const body = change === 'latin1' ? Buffer.from(json.replace(/\}$/, ',"n":"caf\u00e9"}'), 'latin1') : Buffer.from(json, 'utf8');
          const lines = [
            ...(anonymous ? [] : [`Authorization: Bearer ${auth}`]),
            ...(type === '' ? [] : [`Content-Type: ${type}`]),
            ...(write === 'order' ? [`Idempotency-Key: odd-${Math.random()}`] : []),
            ...extra.map(([name, value]) => `${name}: ${value}`),
          ];
          const before = await productNow(product.id);
          const ordersBefore = write === 'order' ? (await orderIds(customer)).length : 0;
          const at: Server = viaGateway ? 'gateway' : write === 'order' ? 'order' : 'product';
          const answer = await exchange(at, headOf(method, target, lines, body.length), body);
          const what = `${method} ${target} at ${at}, ${JSON.stringify(lines.map((l) => l.replace(/Bearer \S+/, 'Bearer <token>')))} ${JSON.stringify(body.toString('latin1'))}: ${JSON.stringify(answer).slice(0, 600)}`;
          assert.ok(answer.status !== undefined && answer.status < 500, what);
          assert.ok(answer.ms < latencyBound(3000), `${what}: took ${Math.round(answer.ms)} ms`);
          answered[answer.status] = (answered[answer.status] ?? 0) + 1;
          const after = await productNow(product.id);
          const ordersAfter = write === 'order' ? (await orderIds(customer)).length : 0;
          if (answer.status >= 400) {
            assertProblemAnswer(answer, answer.status, what);
            assert.deepEqual({ ...after, orders: ordersAfter }, { ...before, orders: ordersBefore }, `${what}: a refusal changed something`);
            return;
          }
          // Accepted: only a body as docs/api.md has it (one member, named once, a whole number in range as written,
          // UTF-8), and then what it says, once.
          assert.ok(change === 'none' || change === 'bom', `${what}: accepted a body with ${change}`);
          assert.ok(ACCEPTED_TOKENS[write].includes(token), `${what}: accepted ${token}`);
          const n = JSON.parse(token) as number;
          if (write === 'order') {
            assert.equal(answer.status, 201, what);
            assert.equal(ordersAfter, ordersBefore + 1, `${what}: orders`);
            assert.equal(after.stock, before.stock - n, `${what}: stock`);
          } else if (write === 'stock') {
            assert.equal(answer.status, 200, what);
            assert.equal(after.stock, before.stock + n, `${what}: stock`);
          } else {
            assert.equal(answer.status, 200, what);
            assert.equal(after.priceCents, n === 0 ? 0 : n, `${what}: price`);
          }
        },
      ),
      { numRuns: Number(process.env.WIRE_ODD_RUNS ?? 200), interruptAfterTimeLimit: 200_000, endOnFailure: true },
    );
    assert.ok((answered[200] ?? 0) + (answered[201] ?? 0) > 0 && Object.keys(answered).length >= 4, `answers ${JSON.stringify(answered)}`);
    assertAllAlive();
  });
});
