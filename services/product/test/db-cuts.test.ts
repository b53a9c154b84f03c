// The product service's database connection cut between two statements of a reservation, a release or an admin
// stock adjustment (the test-support databaseProxy): the statement never sent, sent and run with its answer lost, or
// answered and then the connection gone, or answered and then the session ended by the server (a FATAL); the database then refuses connections for a moment. The request answers
// its answer or 503 problem+json (never a 500, the process alive), and its retry (the same order id, the same
// Idempotency-Key) answers as the first would have, the stock moved exactly once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { uuidv7 } from '@ecommerce/kit';
import { REFUSAL_STATUSES_PREFERENCE } from '@ecommerce/contracts';
import { assertProblem, databaseProxy, http, sql, type CutPoint, type DatabaseProxy, type Running } from '@ecommerce/test-support';
import { startProductService } from './harness.js';
import { createProduct, getProduct, startStack, type Stack } from './stack.js';

let stack: Stack;
let proxy: DatabaseProxy;
let cut: Running;

before(async () => {
  stack = await startStack();
  proxy = await databaseProxy(stack.db.urls.product);
  cut = await startProductService(proxy.url, stack.users.base, { DB_POOL_MAX: '4' });
});
after(async () => {
  await cut?.close();
  await proxy?.close();
  await stack?.close();
});

type Answer = { status: number; headers: Headers; body: Record<string, unknown>; text: string };
const stockOf = async (id: string) => (await getProduct(stack, id)).stock;

/** Cuts the connection at `statement` (at `at`) during `send`, the database away for a moment, then back. */
async function cutDuring(statement: string, at: CutPoint, send: () => Promise<Answer>): Promise<Answer> {
  const done = proxy.cutAt(statement, { at });
  const answer = send();
  await done;
  await sleep(300);
  await proxy.restore();
  return answer;
}

function cutAnswer(res: Answer, expected: number, label: string): void {
  if (res.status === expected) return;
  assert.equal(res.status, 503, `${label}: ${res.status} ${res.text}`);
  assertProblem(res, 503);
}

/** The retry, until the service answers something other than 503 (bounded). */
async function retry(send: () => Promise<Answer>, label: string): Promise<Answer> {
  for (let i = 0; ; i++) {
    const res = await send();
    if (res.status !== 503) return res;
    assert.ok(i < 20, `${label}: still 503: ${res.text}`);
    await sleep(200);
  }
}

const points: CutPoint[] = ['before', 'sent', 'answered', 'ended'];

describe('the product database cut mid-request', { timeout: 120_000 }, () => {
  const reserve = (orderId: string, productId: string, quantity: number) =>
    http(cut.base, 'POST', '/internal/reservations', { token: stack.tokens.service, headers: { prefer: REFUSAL_STATUSES_PREFERENCE }, body: { orderId, items: [{ productId, quantity }] } }) as Promise<Answer>;
  const release = (orderId: string) => http(cut.base, 'DELETE', `/internal/reservations/${orderId}`, { token: stack.tokens.service }) as Promise<Answer>;
  const adjust = (id: string, delta: number, key: string) => http(cut.base, 'POST', `/product/${id}/stock`, { token: stack.tokens.admin, body: { delta }, headers: { 'idempotency-key': key } }) as Promise<Answer>;

  for (const at of points) {
    it(`when a reservation's connection is cut ${at} its statement, then 201 or 503, and the retry is the one reservation`, async () => {
      const p = await createProduct(stack, { stock: 10 });
      const orderId = uuidv7();
      cutAnswer(await cutDuring('reservation_reserve', at, () => reserve(orderId, p.id, 3)), 201, at);
      const again = await retry(() => reserve(orderId, p.id, 3), 'the retry');
      assert.ok(again.status === 200 || again.status === 201, again.text);
      assert.equal(again.body.status, 'reserved');
      assert.equal(await stockOf(p.id), 7);
    });

    it(`when a refusal's connection is cut ${at} storing it, then 409 or 503, and the retry is the same refusal, nothing taken`, async () => {
      const a = await createProduct(stack, { stock: 10 });
      const b = await createProduct(stack, { stock: 1 });
      const orderId = uuidv7();
      const send = () =>
        http(cut.base, 'POST', '/internal/reservations', {
          token: stack.tokens.service,
          headers: { prefer: REFUSAL_STATUSES_PREFERENCE },
          body: {
            orderId,
            items: [
              { productId: a.id, quantity: 2 },
              { productId: b.id, quantity: 2 },
            ].sort((x, y) => (x.productId < y.productId ? -1 : 1)),
          },
        }) as Promise<Answer>;
      cutAnswer(await cutDuring('reservation_refuse', at, send), 409, at);
      const again = await retry(send, 'the retry');
      assertProblem(again, 409, 'insufficient-stock');
      assert.equal(again.body.reason, 'insufficient-stock');
      assert.deepEqual([await stockOf(a.id), await stockOf(b.id)], [10, 1]);
    });

    for (const statement of ['reservation_mark_released', 'reservation_return_stock', 'COMMIT']) {
      it(`when a release's connection is cut ${at} ${statement}, then 200 or 503, and the retry finds it released, the stock back once`, async () => {
        const p = await createProduct(stack, { stock: 10 });
        const orderId = uuidv7();
        assert.equal((await reserve(orderId, p.id, 4)).status, 201);
        cutAnswer(await cutDuring(statement, at, () => release(orderId)), 200, `${statement} ${at}`);
        const again = await retry(() => release(orderId), 'the retry');
        assert.equal(again.status, 200, again.text);
        assert.equal(again.body.status, 'released');
        assert.equal(await stockOf(p.id), 10);
      });
    }

    for (const statement of ['product_claim_adjustment', 'product_adjust_stock', 'COMMIT']) {
      it(`when a keyed stock adjustment's connection is cut ${at} ${statement}, then 200 or 503, and the retry with the key applies it once`, async () => {
        const p = await createProduct(stack, { stock: 10 });
        const key = randomUUID();
        cutAnswer(await cutDuring(statement, at, () => adjust(p.id, 5, key)), 200, `${statement} ${at}`);
        const again = await retry(() => adjust(p.id, 5, key), 'the retry');
        assert.equal(again.status, 200, again.text);
        assert.equal(again.body.stock, 15);
        assert.equal(await stockOf(p.id), 15);
        assert.equal((await http(cut.base, 'GET', '/readyz')).status, 200);
      });
    }
  }
});

describe('an admin edit under If-Match whose connection is cut', { timeout: 120_000 }, () => {
  const fields = {
    name: fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n.trim() === n && n.trim().length > 0 && !/\p{C}/u.test(n)),
    description: fc.option(fc.string({ maxLength: 30 }).filter((d) => !/\p{C}/u.test(d)), { nil: null }),
    priceCents: fc.integer({ min: 0, max: 1_000_000 }),
    category: fc.option(fc.constantFrom('Shoes', 'Lamps', 'Tea'), { nil: null }),
  };
  const patchOf = (id: string, version: number, body: object, ifNoneMatch?: string) =>
    http(cut.base, 'PATCH', `/product/${id}`, { token: stack.tokens.admin, body, headers: { 'if-match': `"${version}"`, ...(ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {}) } }) as Promise<Answer>;

  it('property: for any patch and any cut (before, sent, answered, or answered and the session ended, at its UPDATE or its COMMIT), the retry with the same If-Match answers 200 with the product the change made, applied once; another change at the same old version is still a 412', async () => {
    // Before: a COMMIT that reached the database with its answer lost was a 503, and the retry a 412 ("at version
    // v+1, not v") for the admin's own change: the storefront's editor said "changed by someone else, not saved".
    await fc.assert(
      fc.asyncProperty(
        fc.record(fields, { requiredKeys: [] }).filter((p) => Object.keys(p).length > 0),
        fc.constantFrom('product_update', 'COMMIT'),
        fc.constantFrom<CutPoint>(...points),
        async (patch, statement, at) => {
          const p = await createProduct(stack, { stock: 10 });
          const v = (await getProduct(stack, p.id)).version;
          cutAnswer(await cutDuring(statement, at, () => patchOf(p.id, v, patch)), 200, `${statement} ${at}`);
          const again = await retry(() => patchOf(p.id, v, patch), 'the retry');
          assert.equal(again.status, 200, `${statement} ${at}: ${again.status} ${again.text}`);
          const now = await getProduct(stack, p.id);
          assert.equal(now.version, v + 1, 'applied once');
          for (const [k, value] of Object.entries(patch)) assert.deepEqual((now as unknown as Record<string, unknown>)[k], value, k);
          assert.equal(again.body.version, now.version);
          assert.equal(again.headers.get('etag'), `"${now.version}"`);
          // A change the product does not hold, at the old version, is refused: someone (this admin) changed it since.
          const other = await patchOf(p.id, v, { ...patch, name: `${now.name}-other` });
          assertProblem(other, 412);
          // Nor does the old version stand for the change when If-None-Match names the current one.
          assertProblem(await patchOf(p.id, v, patch, `"${now.version}"`), 412);
          assert.equal((await getProduct(stack, p.id)).version, v + 1, 'the refusals changed nothing');
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('a keyed stock adjustment under If-Match whose connection is cut', { timeout: 120_000 }, () => {
  it('property: for any delta and any cut of it, the retry with the same key and If-Match answers 200 with the stock moved once (a repeat of an applied key is answered whatever its condition), never a 412 for its own change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -10, max: 10 }).filter((d) => d !== 0),
        fc.constantFrom('product_claim_adjustment', 'product_adjust_stock', 'COMMIT'),
        fc.constantFrom<CutPoint>(...points),
        async (delta, statement, at) => {
          const p = await createProduct(stack, { stock: 10 });
          const { version } = await getProduct(stack, p.id);
          const key = randomUUID();
          const send = () =>
            http(cut.base, 'POST', `/product/${p.id}/stock`, { token: stack.tokens.admin, body: { delta }, headers: { 'idempotency-key': key, 'if-match': `"${version}"` } }) as Promise<Answer>;
          cutAnswer(await cutDuring(statement, at, send), 200, `${statement} ${at}`);
          const again = await retry(send, 'the retry');
          assert.equal(again.status, 200, `${statement} ${at}: ${again.status} ${again.text}`);
          const now = await getProduct(stack, p.id);
          assert.deepEqual([now.stock, now.version], [10 + delta, version + 1], 'moved once');
          assert.equal(again.body.stock, now.stock);
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe("the proxy's port while the database is away", () => {
  it('when the proxy is cut, then its port is one no other process of ours is handed meanwhile (below the kernel\'s ephemeral range, reserved for this process), so restore() can listen on it again', async () => {
    // Before: a port of the kernel's (listen on 0), in its ephemeral range, closed at every cut until restore(): another
    // test file's listen on 0, or a connection's local port, could take it meanwhile, and restore() failed (EADDRINUSE).
    const ephemeralFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const port = Number(new URL(proxy.url).port);
    assert.ok(port < ephemeralFrom, `the proxy listens on ${port}, in the ephemeral range (from ${ephemeralFrom})`);
    // The cut: bytes that name the statement, through the proxy (the server never sees them: cut before).
    const done = proxy.cutAt('SELECT 4242');
    const client = connect(port, '127.0.0.1').on('error', () => undefined);
    client.write('SELECT 4242\0');
    await done;
    client.destroy();
    try {
      // Another process asks the kit's freePort for exactly that port, closed now: it is given another.
      const kit = import.meta.resolve('@ecommerce/kit');
      const code = `const { freePort } = await import(${JSON.stringify(kit)}); console.log(await freePort('127.0.0.1', { low: ${port}, high: ${port + 1} }));`;
      const picked = Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 }).trim());
      assert.ok(Number.isInteger(picked) && picked > 0, String(picked));
      assert.notEqual(picked, port, 'another process was handed the port of the cut proxy');
    } finally {
      await proxy.restore();
    }
    assert.equal((await sql<{ n: number }>(proxy.url, 'SELECT 1 AS n'))[0]?.n, 1, 'restored on the same port');
  });
});
