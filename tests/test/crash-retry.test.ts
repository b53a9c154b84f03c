// A client's retry after the order service was SIGKILLed in the middle of its request, through the real gateway.
// The dead request's drive lease (3 reservation deadlines + 1 s) outlives it; a retry that waited the lease out
// was held past the gateway's 10 s and answered 504 (a placement's retry, a repeated cancel alike). Now the retry
// waits at most one reservation deadline for the driver, then answers 503 with a Retry-After that ends when the
// lease does, and the retry sent then gets the final answer; a client that only polls sees the reconciler confirm
// the order once that lease ends (before, it waited for the deadline and failed it). Every crash point of placement
// and cancellation, on the whole platform as processes (tests/src/platform.ts) with a database of this file's own; afterwards, by admin
// SQL: stock = initial - confirmed units, a reservation is held exactly for the confirmed orders, nothing in flight.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { adminUrlOn, createCustomer, createProduct, http, login, sql as sqlOn, timed } from '@ecommerce/test-support';
import { latencyBound, startPlatform, type Platform } from '../src/platform.js';

/** A deadline a production setting may well have: its lease (13 s) is longer than the gateway's timeout. */
const RESERVATION_TIMEOUT_MS = 4_000;
/** The gateway's UPSTREAM_TIMEOUT_MS default. */
const GATEWAY_TIMEOUT_MS = 10_000;
type CrashPoint = 'none' | 'after-pending' | 'after-reserve' | 'after-cancelling' | 'after-release';
const orderEnv: Record<string, string> = {
  RESERVATION_TIMEOUT_MS: String(RESERVATION_TIMEOUT_MS),
  // A reservation window (2/3 of it: 20 s) longer than the lease, so an order whose driver died can still be placed.
  PENDING_DEADLINE_MS: '30000',
  RECONCILER_INTERVAL_MS: '300',
  MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0',
  FAULT_INJECTION: 'enabled',
  FAULT_CRASH_POINT: 'none',
};

let platform: Platform;
let dbUrl: string;
let admin: string;
let token: string;
let gateway: string;

before(
  async () => {
    // envOf reads this object at every start: a test sets FAULT_CRASH_POINT, then starts the order service again.
    platform = await startPlatform({ serviceEnv: { order: orderEnv } });
    dbUrl = adminUrlOn(platform.db);
    gateway = platform.procs.gateway.base;
    admin = await login(platform.procs.user.base, platform.admin.email, platform.admin.password);
    token = (await createCustomer(platform.procs.user.base, 'crash')).token;
  },
  { timeout: 120_000 },
);

after(() => platform?.stop());

const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => sqlOn<R>(dbUrl, text, values);

/** The order service again, with this crash point (the one running is stopped first; a killed one is gone). */
async function orderServiceWith(point: CrashPoint): Promise<void> {
  const running = platform.procs.order;
  if (!running.exited) {
    running.child.kill('SIGTERM');
    while (!running.exited) await sleep(20);
  }
  orderEnv.FAULT_CRASH_POINT = point;
  await platform.start('order');
}

/** Sends a request the order service dies in (its crash point SIGKILLs it): the client sees no answer or a 5xx. */
async function killedBy(send: () => Promise<{ status: number }>): Promise<void> {
  const res = await send().catch(() => null);
  if (res) assert.ok(res.status >= 500, `the request the process died in answered ${res.status}`);
  const proc = platform.procs.order;
  while (!proc.exited) await sleep(20);
  assert.equal(proc.exit?.signal, 'SIGKILL');
}

/** An answer as a retrying client reads it: its status, how long it took (whole ms), its Retry-After and body. */
interface RetryAnswer {
  status: number;
  ms: number;
  retryAfter: number | null;
  body: { id?: string; status?: unknown; orderId?: string; orderStatus?: string; cancellation?: string; type?: string };
}

async function answerOf(send: () => Promise<{ status: number; headers: Headers; body: RetryAnswer['body'] }>): Promise<RetryAnswer> {
  const { res, ms } = await timed(send);
  const retryAfter = res.headers.get('retry-after');
  return { status: res.status, ms: Math.round(ms), retryAfter: retryAfter === null ? null : Number(retryAfter), body: res.body };
}

/** The drive lease a request takes: 3 reservation deadlines + 1 s (services/order/src/plugins/orders.ts). */
const LEASE_MS = RESERVATION_TIMEOUT_MS * 3 + 1_000;

/** The dead request's lease: the order it drove, and when (epoch ms, the machine's clock) its lease ends. */
interface DeadLease {
  orderId: string;
  endsAt: number;
}

/**
 * The order the killed request was driving, read by admin SQL while no order service runs: still in flight, under
 * the whole lease that request took (lease_until - updated_at: both written by its one statement).
 */
async function deadDriver(orderWhere: 'idempotency_key' | 'id', value: string, inFlight: string): Promise<DeadLease> {
  const [row] = await sql<{ id: string; status: string; lease_ms: number | null; ends_at: number | null }>(
    `SELECT id, status, (EXTRACT(EPOCH FROM lease_until - updated_at) * 1000)::float8 AS lease_ms, (EXTRACT(EPOCH FROM lease_until) * 1000)::float8 AS ends_at
     FROM orders.orders WHERE ${orderWhere} = $1`,
    [value],
  );
  assert.equal(row?.status, inFlight, 'the killed request left its order in flight');
  assert.ok(row.lease_ms !== null && row.ends_at !== null && Math.abs(row.lease_ms - LEASE_MS) < 5, `the killed request's lease: ${row.lease_ms} ms, not ${LEASE_MS}`);
  return { orderId: row.id, endsAt: row.ends_at };
}

/**
 * The retries a client makes after the crash: the first, at once, is a prompt 503 naming the order in flight
 * with a Retry-After (not the gateway's 504); the one sent after that many seconds is answered in full.
 * The 503 is owed while the dead request's lease runs. A restart slower than the lease (seen under heavy load: more
 * than its 13 s) or than the lease less the retry's wait for a driver hands the order to the retry or the
 * reconciler, and the retry's prompt final answer is right then; but only then: an answer other than 503 that
 * arrives before the dead lease's end (the database's clock is this machine's) means the order was driven under it.
 */
async function retryAsTold(
  send: () => Promise<{ status: number; headers: Headers; body: RetryAnswer['body'] }>,
  lease: DeadLease,
  inFlight: Pick<RetryAnswer['body'], 'orderStatus' | 'cancellation'>,
  label: string,
): Promise<RetryAnswer> {
  const leftAtSend = lease.endsAt - Date.now();
  const first = await answerOf(send);
  const answeredAt = Date.now();
  // Before: held until the dead request's lease ended, 8 to 10 s here and the gateway's 504 past that.
  assert.ok(first.ms < Math.min(GATEWAY_TIMEOUT_MS, RESERVATION_TIMEOUT_MS + latencyBound(2_000)), `${label}: the retry at once answered ${first.status} in ${first.ms} ms`);
  if (first.status !== 503) {
    assert.ok(answeredAt > lease.endsAt, `${label}: the retry at once answered ${first.status} ${Math.round(lease.endsAt - answeredAt)} ms before the dead request's lease ended: ${JSON.stringify(first.body)}`);
    console.log(`# ${label}: the restart left ${Math.round(leftAtSend)} ms of the lease, which ended before the answer: the retry at once is the final answer, ${first.status} in ${first.ms} ms`);
    return first;
  }
  assert.deepEqual({ orderStatus: first.body.orderStatus, cancellation: first.body.cancellation }, { cancellation: undefined, ...inFlight }, label);
  assert.ok(Number.isInteger(first.retryAfter) && first.retryAfter! >= 1, `${label}: Retry-After ${first.retryAfter}`);
  // The lease of the dead request ends within Retry-After: never more than a lease away.
  assert.ok(first.retryAfter! <= Math.ceil(LEASE_MS / 1000), `${label}: Retry-After ${first.retryAfter}`);
  await sleep(first.retryAfter! * 1000);
  const second = await answerOf(send);
  assert.ok(second.ms < GATEWAY_TIMEOUT_MS, `${label}: the retry after Retry-After answered in ${second.ms} ms`);
  console.log(`# ${label}: ${Math.round(leftAtSend)} ms of the lease left; retry at once ${first.status} in ${first.ms} ms, Retry-After ${first.retryAfter}; then ${second.status} in ${second.ms} ms`);
  return second;
}

describe('a retry after the order service was SIGKILLed mid-request, through the gateway', { timeout: 240_000 }, () => {
  const initial = new Map<string, number>();
  const product = async () => {
    const { id } = await createProduct(platform.procs.product.base, admin, { sku: `CRASH-${randomUUID()}`, name: 'Crash retry', priceCents: 250, stock: 20 });
    initial.set(id, 20);
    return id;
  };

  for (const point of ['after-pending', 'after-reserve'] as const) {
    it(`when the placement died ${point}, then its retry is a prompt 503 + Retry-After, and the retry after it is the confirmed order`, async () => {
      const productId = await product();
      const key = randomUUID();
      const place = () => http<RetryAnswer['body']>(gateway, 'POST', '/order', { token, body: { items: [{ productId, quantity: 2 }] }, headers: { 'idempotency-key': key } });
      await orderServiceWith(point);
      await killedBy(place);
      const lease = await deadDriver('idempotency_key', key, 'pending');
      await orderServiceWith('none');
      const final = await retryAsTold(place, lease, { orderStatus: 'pending' }, `placement killed ${point}`);
      assert.equal(final.status, 200, JSON.stringify(final.body));
      assert.equal(final.body.status, 'confirmed');
      const [row] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM orders.orders WHERE idempotency_key = $1', [key]);
      assert.equal(row!.n, 1, 'one order for the key');
    });
  }

  it('when the placement died after-pending and the client only polls the order (as the storefront does), then it is confirmed once the dead request\'s lease ends, before its deadline', async () => {
    const productId = await product();
    const key = randomUUID();
    await orderServiceWith('after-pending');
    await killedBy(() => http(gateway, 'POST', '/order', { token, body: { items: [{ productId, quantity: 1 }] }, headers: { 'idempotency-key': key } }));
    await orderServiceWith('none');
    const [row] = await sql<{ id: string; created_at: Date }>('SELECT id, created_at FROM orders.orders WHERE idempotency_key = $1', [key]);
    let status = 'pending';
    while (status === 'pending' && Date.now() - row!.created_at.getTime() < Number(orderEnv.PENDING_DEADLINE_MS) + 10_000) {
      await sleep(250);
      status = (await http<{ status: string }>(gateway, 'GET', `/order/${row!.id}`, { token })).body.status;
    }
    const settledAfterMs = Date.now() - row!.created_at.getTime();
    console.log(`# placement killed after-pending, client polling: ${status} ${settledAfterMs} ms after it was written`);
    // Before: nobody drove it until its deadline (30 s), past its reservation window (20 s): failed, an order lost to a crash.
    assert.equal(status, 'confirmed');
    assert.ok(settledAfterMs < Number(orderEnv.PENDING_DEADLINE_MS), `settled ${settledAfterMs} ms after it was written`);
  });

  for (const point of ['after-cancelling', 'after-release'] as const) {
    it(`when the cancel died ${point}, then its repeat is a prompt 503 + Retry-After, and the repeat after it is the cancelled order`, async () => {
      const productId = await product();
      await orderServiceWith('none');
      const placed = await http<{ id: string }>(gateway, 'POST', '/order', { token, body: { items: [{ productId, quantity: 3 }] }, headers: { 'idempotency-key': randomUUID() } });
      assert.equal(placed.status, 201, placed.text);
      const cancel = () => http<RetryAnswer['body']>(gateway, 'POST', `/order/${placed.body.id}/cancel`, { token });
      await orderServiceWith(point);
      await killedBy(cancel);
      const lease = await deadDriver('id', placed.body.id, 'cancelling');
      await orderServiceWith('none');
      // Stored as cancelling; the 503 shows the order as its body would: confirmed, its cancellation pending.
      const final = await retryAsTold(cancel, lease, { orderStatus: 'confirmed', cancellation: 'pending' }, `cancel killed ${point}`);
      assert.equal(final.status, 200, JSON.stringify(final.body));
      assert.equal(final.body.status, 'cancelled');
    });
  }

  it('when every crash is recovered, then stock = initial - confirmed units and a reservation is held exactly for each confirmed order', async () => {
    const ids = [...initial.keys()];
    assert.equal(ids.length, 5);
    const [inFlight] = await sql<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('pending', 'cancelling')");
    assert.equal(inFlight!.n, 0);
    const stocks = await sql<{ id: string; stock: number }>('SELECT id, stock FROM catalog.products WHERE id = ANY($1::uuid[])', [ids]);
    const confirmed = await sql<{ product_id: string; units: number }>(
      `SELECT (l->>'productId')::uuid AS product_id, sum((l->>'quantity')::int)::int AS units
       FROM orders.orders o, jsonb_array_elements(o.items) l WHERE o.status = 'confirmed' GROUP BY 1`,
    );
    const taken = new Map(confirmed.map((r) => [r.product_id, r.units]));
    for (const { id, stock } of stocks) assert.equal(stock, initial.get(id)! - (taken.get(id) ?? 0), `stock of ${id}`);
    const mismatched = await sql(
      `SELECT o.id, o.status, r.status AS reservation FROM orders.orders o FULL JOIN catalog.reservations r ON r.order_id = o.id
       WHERE (o.status = 'confirmed') IS DISTINCT FROM (r.status = 'reserved') AND (o.status = 'confirmed' OR r.status = 'reserved')`,
    );
    assert.deepEqual(mismatched, []);
    for (const p of Object.values(platform.procs)) if (p.name !== 'order') assert.equal(p.exited, false, `${p.name} is alive`);
  });
});
