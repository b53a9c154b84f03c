// The sick dependency, where faults.test.ts plays the dead one: a process that is there but answers nothing
// (SIGSTOP: connections open, its accept queue filling), a PostgreSQL table locked by another session, and a
// reservation that commits at the moment its caller gives up. The whole platform as real processes on free
// loopback ports (tests/src/platform.ts) against a database of this file's own; every stopped process is continued
// and every lock given back in a finally. After each scenario the invariants are read with admin SQL:
//   stock + units held by live reservations = initial, for every product;
//   a reservation is held exactly for the confirmed orders, with exactly the order's units;
//   nothing is pending or cancelling a reconciler horizon after recovery;
//   no process died.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { adminUrlOn, createCustomer, createProduct, http, login, sql as sqlOn, timed } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform, type ServiceName } from '../src/platform.js';

const RESERVATION_TIMEOUT_MS = 800;
const PENDING_DEADLINE_MS = 4_000;
const ORDER_ENV = {
  RESERVATION_TIMEOUT_MS: String(RESERVATION_TIMEOUT_MS),
  PENDING_DEADLINE_MS: String(PENDING_DEADLINE_MS),
  RECONCILER_INTERVAL_MS: '300',
  AUDIT_INTERVAL_MS: '2000',
  MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0',
};
/** The gateway's UPSTREAM_TIMEOUT_MS default: a service must answer before it, or the client gets a 504. */
const GATEWAY_TIMEOUT_MS = 10_000;

let platform: Platform;
let dbUrl: string;
let admin: string;
let tokens: string[];

before(
  async () => {
    platform = await startPlatform({ serviceEnv: { order: ORDER_ENV } });
    dbUrl = adminUrlOn(platform.db);
    admin = await login(platform.procs.user.base, platform.admin.email, platform.admin.password);
    tokens = await Promise.all([1, 2, 3, 4].map(async () => (await createCustomer(platform.procs.user.base, 'hang')).token));
  },
  { timeout: 120_000 },
);

after(async () => {
  // A stopped process would ignore the SIGTERM of stop(): every test continues what it stopped, this is the net.
  for (const p of Object.values(platform?.procs ?? {})) if (!p.exited) p.child.kill('SIGCONT');
  await platform?.stop();
});

const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => sqlOn<R>(dbUrl, text, values);
const base = (name: ServiceName) => platform.procs[name].base;

/** Products of one scenario, with the stock each started with. */
class Ledger {
  readonly initial = new Map<string, number>();

  async product(stock: number): Promise<string> {
    const { id } = await createProduct(base('product'), admin, { sku: `HANG-${randomUUID()}`, name: 'Hang test', priceCents: 100, stock, category: 'hangs' });
    this.initial.set(id, stock);
    return id;
  }
}

interface Answer {
  at: number;
  ms: number;
  status: number;
  contentType: string;
  retryAfter: string | null;
  via: string;
}

/** The answer to `call`, or status 0 with the error's code where it failed (refused, reset, timed out). */
async function answerOf(via: string, call: () => Promise<{ status: number; headers: Headers }>): Promise<Answer> {
  const at = Date.now();
  const { res, ms } = await timed(() =>
    call().then(
      (r) => ({ status: r.status, contentType: r.headers.get('content-type') ?? '', retryAfter: r.headers.get('retry-after') }),
      (err: unknown) => ({ status: 0, contentType: String((err as { cause?: { code?: string } }).cause?.code ?? err), retryAfter: null }),
    ),
  );
  // Whole milliseconds, as `at` (Date.now()) and the windows it is compared with are.
  return { at, ms: Math.round(ms), ...res, via };
}

const placeOrder = (target: string, token: string, productId: string, key = randomUUID()) =>
  http<{ id?: string; orderId?: string; status?: string }>(target, 'POST', '/order', { token, body: { items: [{ productId, quantity: 1 }] }, headers: { 'idempotency-key': key } });

/** Every 5xx is a problem, and a 503 says when to come back. */
function assertProblemAnswers(answers: Answer[], label: string): void {
  for (const a of answers.filter((x) => x.status >= 500 || x.status === 0)) {
    assert.match(a.contentType, /^application\/problem\+json/, `${label}: a ${a.status} via ${a.via} is problem+json (${a.contentType})`);
    if (a.status === 503) assert.ok(a.retryAfter, `${label}: a 503 via ${a.via} has Retry-After`);
  }
}

/** Waits until no order is in flight: the pending deadline, a lease and a few reconciler passes. */
async function awaitSettled(label: string): Promise<number> {
  const t0 = Date.now();
  const horizon = latencyBound(PENDING_DEADLINE_MS + 3 * RESERVATION_TIMEOUT_MS + 10_000);
  for (;;) {
    const [row] = await sql<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('pending', 'cancelling')");
    if (row!.n === 0) return Date.now() - t0;
    if (Date.now() - t0 > horizon) {
      const stuck = await sql("SELECT id, status, lease_until, deadline_at FROM orders.orders WHERE status IN ('pending', 'cancelling') LIMIT 5");
      assert.fail(`${label}: orders still in flight ${horizon} ms after recovery: ${JSON.stringify(stuck)}`);
    }
    await sleep(200);
  }
}

async function assertInvariants(ledger: Ledger, label: string): Promise<void> {
  const ms = await awaitSettled(label);
  const ids = [...ledger.initial.keys()];
  const totals = await sql<{ id: string; total: number }>(
    `SELECT p.id, p.stock + coalesce((SELECT sum(ri.quantity) FROM catalog.reservation_items ri JOIN catalog.reservations r USING (order_id)
                                      WHERE ri.product_id = p.id AND r.status = 'reserved'), 0)::int AS total
     FROM catalog.products p WHERE p.id = ANY($1::uuid[])`,
    [ids],
  );
  for (const { id, total } of totals) assert.equal(total, ledger.initial.get(id), `${label}: stock + held units of ${id} = its initial stock`);
  const mismatched = await sql(
    `SELECT o.id, o.status, r.status AS reservation FROM orders.orders o FULL JOIN catalog.reservations r ON r.order_id = o.id
     WHERE (o.status = 'confirmed') IS DISTINCT FROM (r.status = 'reserved') AND (o.status = 'confirmed' OR r.status = 'reserved')`,
  );
  assert.deepEqual(mismatched, [], `${label}: a reservation is held exactly for each confirmed order`);
  const unitsDiffer = await sql(
    `SELECT o.id FROM orders.orders o
     WHERE o.status = 'confirmed' AND
       (SELECT jsonb_object_agg(l->>'productId', (l->>'quantity')::int) FROM jsonb_array_elements(o.items) l)
       IS DISTINCT FROM (SELECT jsonb_object_agg(ri.product_id::text, ri.quantity) FROM catalog.reservation_items ri WHERE ri.order_id = o.id)`,
  );
  assert.deepEqual(unitsDiffer, [], `${label}: every confirmed order holds exactly its own units`);
  const states = await sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM orders.orders GROUP BY 1 ORDER BY 1');
  console.log(`# ${label}: settled ${ms} ms after recovery; orders ${JSON.stringify(Object.fromEntries(states.map((s) => [s.status, s.n])))}`);
  for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${label}: ${p.name} is still running (${JSON.stringify(p.exit)})`);
}

/**
 * Fills a stopped process's accept queue (the kernel completes handshakes for it until the queue is full): from
 * then on a new connection to it waits for nothing, as when many clients or a long stop got there first.
 */
async function fillAcceptQueue(port: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < 2_000; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    sockets.push(socket);
    const connected = await Promise.race([once(socket, 'connect').then(() => true), sleep(300, false)]);
    if (!connected) return sockets;
  }
  throw new Error(`the accept queue of port ${port} did not fill with ${sockets.length} connections`);
}

/** Polls /livez of a service while fn runs; returns the slowest answer (ms) and any that failed. */
async function watchLiveness<T>(name: ServiceName, fn: () => Promise<T>): Promise<{ result: T; slowestMs: number; failed: number }> {
  let watching = true;
  let slowestMs = 0;
  let failed = 0;
  const poller = (async () => {
    while (watching) {
      const a = await answerOf('livez', () => fetch(`${base(name)}/livez`, { signal: AbortSignal.timeout(5_000) }));
      slowestMs = Math.max(slowestMs, a.ms);
      if (a.status !== 200) failed++;
      await sleep(250);
    }
  })();
  try {
    return { result: await fn(), slowestMs, failed };
  } finally {
    watching = false;
    await poller;
  }
}

describe('hangs', { timeout: 300_000 }, () => {
  it('when the product service is SIGSTOPped with its accept queue full while orders flow, then placements answer 503 problem+json within a reservation deadline (never a gateway 504), the order service stays live, and every invariant holds after SIGCONT', async () => {
    const ledger = new Ledger();
    const products = [await ledger.product(10_000), await ledger.product(10_000)];
    const product = platform.procs.product.child;
    const port = Number(new URL(base('product')).port);
    const answers: Answer[] = [];
    const stopped = { from: 0, to: 0 };
    let running = true;
    const shopper = async (i: number) => {
      for (let n = 0; running; n++) {
        const target = i % 2 ? base('gateway') : base('order');
        answers.push(await answerOf(i % 2 ? 'gateway' : 'order', () => placeOrder(target, tokens[i % tokens.length]!, products[n % 2]!)));
      }
    };
    const { slowestMs, failed } = await watchLiveness('order', async () => {
      const shoppers = Array.from({ length: 12 }, (_, i) => shopper(i));
      await sleep(1_000);
      let fillers: Socket[] = [];
      try {
        product.kill('SIGSTOP');
        stopped.from = Date.now();
        fillers = await fillAcceptQueue(port);
        await sleep(12_000);
      } finally {
        product.kill('SIGCONT');
        stopped.to = Date.now();
        for (const s of fillers) s.destroy();
      }
      await sleep(1_000);
      running = false;
      await Promise.all(shoppers);
    });
    const during = answers.filter((a) => a.at >= stopped.from + 1_000 && a.at + a.ms < stopped.to);
    const slowest = Math.max(...during.map((a) => a.ms));
    const statuses = [...new Set(during.map((a) => `${a.via} ${a.status}`))].sort();
    console.log(`# product SIGSTOP: ${answers.length} placements, ${during.length} answered while stopped (${statuses.join(', ')}), slowest ${slowest} ms; order /livez slowest ${slowestMs} ms`);
    assert.ok(during.length > 0, 'placements were answered while the product service was stopped');
    assertProblemAnswers(answers, 'product SIGSTOP');
    assert.deepEqual(
      during.filter((a) => a.status !== 503),
      [],
      'while the product service answers nothing, every placement is a 503 (the order stays pending), none a 504',
    );
    // One reservation deadline to connect and one for the answer, plus the order's own two writes: far below
    // the gateway's 10 s. Before, a connect to the stopped process waited undici's 10 s, retried twice.
    assert.ok(slowest < latencyBound(4 * RESERVATION_TIMEOUT_MS + 1_000), `slowest placement while stopped: ${slowest} ms`);
    assert.equal(failed, 0, 'the order service answered /livez throughout');
    assert.ok(slowestMs < latencyBound(1_000), `order /livez slowest ${slowestMs} ms`);
    await assertInvariants(ledger, 'product SIGSTOP');
  });

  it('when the user service (the token issuer) is SIGSTOPped, then customers holding tokens keep ordering through the gateway, a login is a 504 problem, and nothing waits on it', async () => {
    const ledger = new Ledger();
    const product = await ledger.product(1_000);
    // The order service's service token and the JWKS are fetched by now (and cached): a warm-up order.
    assert.equal((await placeOrder(base('gateway'), tokens[0]!, product)).status, 201);
    const user = platform.procs.user.child;
    const answers: Answer[] = [];
    let login: Answer;
    try {
      user.kill('SIGSTOP');
      const loginAttempt = answerOf('gateway', () => http(base('gateway'), 'POST', '/user/login', { body: { email: 'nobody@example.test', password: 'password-123' } }));
      for (let i = 0; i < 10; i++) answers.push(await answerOf('gateway', () => placeOrder(base('gateway'), tokens[i % tokens.length]!, product)));
      login = await loginAttempt;
    } finally {
      user.kill('SIGCONT');
    }
    console.log(`# user SIGSTOP: orders ${answers.map((a) => a.status).join(',')} (slowest ${Math.max(...answers.map((a) => a.ms))} ms); login ${login.status} after ${login.ms} ms`);
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(201), 'orders need no call to the user service');
    assert.ok(Math.max(...answers.map((a) => a.ms)) < latencyBound(2_000));
    assert.equal(login.status, 504);
    assertProblemAnswers([login], 'user SIGSTOP login');
    assert.ok(login.ms < GATEWAY_TIMEOUT_MS + latencyBound(2_000), `login answered after ${login.ms} ms`);
    await assertInvariants(ledger, 'user SIGSTOP');
  });

  it('when another session holds catalog.products in ACCESS EXCLUSIVE mode longer than the statement timeout, then orders and reads answer 503 problem+json with Retry-After before the gateway gives up, the services recover, and every invariant holds', async () => {
    const ledger = new Ledger();
    const products = [await ledger.product(10_000), await ledger.product(10_000)];
    const answers: Answer[] = [];
    let running = true;
    const client = async (i: number) => {
      for (let n = 0; running; n++) {
        const productId = products[n % 2]!;
        if (i % 3 === 2) answers.push(await answerOf('gateway read', () => http(base('gateway'), 'GET', `/product/${productId}`)));
        else answers.push(await answerOf(i % 3 ? 'gateway' : 'order', () => placeOrder(i % 3 ? base('gateway') : base('order'), tokens[i % tokens.length]!, productId)));
      }
    };
    const locker = new pg.Client({ connectionString: dbUrl });
    await locker.connect();
    const held = { from: 0, to: 0 };
    const clients = Array.from({ length: 9 }, (_, i) => client(i));
    try {
      await sleep(1_000);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE');
      held.from = Date.now();
      await sleep(12_000);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      held.to = Date.now();
      await locker.end();
    }
    // Ready again by itself once the lock is gone.
    let ready = 0;
    for (let i = 0; i < 50 && ready !== 200; i++) {
      ready = (await answerOf('readyz', () => fetch(`${base('product')}/readyz`))).status;
      if (ready !== 200) await sleep(200);
    }
    await sleep(1_000);
    running = false;
    await Promise.all(clients);
    const during = answers.filter((a) => a.at >= held.from && a.at < held.to);
    const by = (via: string) => during.filter((a) => a.via === via);
    const summary = ['order', 'gateway', 'gateway read'].map((v) => `${v}: ${[...new Set(by(v).map((a) => a.status))].join('/')} slowest ${Math.max(0, ...by(v).map((a) => a.ms))} ms`);
    console.log(`# catalog.products locked 12 s: ${during.length} requests (${summary.join('; ')}); product ready again: ${ready}`);
    assertProblemAnswers(answers, 'table lock');
    // A placement waits at most one reservation deadline on the product service, whatever holds it up.
    for (const a of [...by('order'), ...by('gateway')]) assert.ok([201, 503].includes(a.status), `a placement answered ${a.status}`);
    assert.ok(Math.max(...[...by('order'), ...by('gateway')].map((a) => a.ms)) < latencyBound(4 * RESERVATION_TIMEOUT_MS + 1_000));
    // A read waits on the lock until the statement timeout (8 s) and is a 503, except one that also waited up to
    // 5 s for a pool connection, which the gateway may cut at 10 s (a 504: docs/design.md); never longer.
    for (const a of by('gateway read')) assert.ok([200, 503, 504].includes(a.status), `a read answered ${a.status}`);
    assert.ok(Math.max(...by('gateway read').map((a) => a.ms)) < GATEWAY_TIMEOUT_MS + latencyBound(1_500));
    // Reads the lock held: asked before it was let go and answered after it was taken. Some were asked while the LOCK
    // itself still queued behind transactions in flight (before held.from) and waited from then on.
    const heldReads = answers.filter((a) => a.via === 'gateway read' && a.at < held.to && a.at + a.ms > held.from);
    assert.ok(heldReads.some((a) => a.status === 503), `reads held by the lock were answered 503 (${heldReads.map((a) => `${a.status}@${a.ms}`).join(' ')})`);
    assert.equal(ready, 200, 'the product service is ready again once the lock is gone');
    await assertInvariants(ledger, 'table lock');
  });

  it('when a reservation or a release commits around the moment the order service gives up on it, then each order ends confirmed with its units held, or not holding any, and stock agrees', async () => {
    const ledger = new Ledger();
    const token = tokens[0]!;
    // A row lock on the product makes the product service's call wait; it is given back around the caller's deadline.
    const hold = async (productId: string, ms: number, call: () => Promise<Answer>): Promise<Answer> => {
      const locker = new pg.Client({ connectionString: dbUrl });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM catalog.products WHERE id = $1 FOR UPDATE', [productId]);
        const answer = call();
        await sleep(ms);
        await locker.query('COMMIT');
        return await answer;
      } finally {
        await locker.end();
      }
    };
    const offsets = [-150, -75, -25, 0, 25, 75, 150, 300];
    const placements = await Promise.all(
      offsets.map(async (offset) => {
        const productId = await ledger.product(5);
        return hold(productId, RESERVATION_TIMEOUT_MS + offset, () => answerOf('order', () => placeOrder(base('order'), token, productId)));
      }),
    );
    // Cancels of confirmed orders, their release held the same way.
    const confirmed = await Promise.all(
      offsets.map(async () => {
        const productId = await ledger.product(5);
        const res = await placeOrder(base('order'), token, productId);
        assert.equal(res.status, 201, res.text);
        return { productId, id: res.body.id! };
      }),
    );
    const cancels = await Promise.all(
      confirmed.map(({ productId, id }, i) => hold(productId, RESERVATION_TIMEOUT_MS + offsets[i]!, () => answerOf('order', () => http(base('order'), 'POST', `/order/${id}/cancel`, { token })))),
    );
    console.log(`# racing the deadline: placements ${placements.map((a) => `${a.status}@${a.ms}`).join(' ')}; cancels ${cancels.map((a) => `${a.status}@${a.ms}`).join(' ')}`);
    assertProblemAnswers([...placements, ...cancels], 'racing the deadline');
    for (const a of placements) assert.ok([201, 503].includes(a.status), `a placement answered ${a.status}`);
    for (const a of cancels) assert.ok([200, 503].includes(a.status), `a cancel answered ${a.status}`);
    await assertInvariants(ledger, 'racing the deadline');
    const cancelled = await sql<{ status: string }>('SELECT status FROM orders.orders WHERE id = ANY($1::uuid[])', [confirmed.map((c) => c.id)]);
    assert.deepEqual(cancelled.map((r) => r.status), Array(offsets.length).fill('cancelled'), 'every cancel was finished');
  });
});
