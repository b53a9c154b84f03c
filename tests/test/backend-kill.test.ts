// PostgreSQL ends the services' connections under load (pg_terminate_backend: an administrator, a pooler's or a
// failover's reset, an idle-session reaper), while customers place and cancel orders and an admin restocks, every
// client retrying a 503 with the same key. No answer may be a 500 or a hang: a lost connection is a 503 + Retry-After,
// and afterwards, by admin SQL: stock = initial + restocked - confirmed units, a reservation is held exactly for the
// confirmed orders, every answered key has one order, nothing in flight. Bounded: about 12 s of load on loopback.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { adminUrlOn, createCustomer, createProduct, http, login, sql as sqlOn } from '@ecommerce/test-support';
import { startPlatform, type Platform } from '../src/platform.js';

const LOAD_MS = 12_000;
const orderEnv = { PENDING_DEADLINE_MS: '3000', RECONCILER_INTERVAL_MS: '300', RESERVATION_TIMEOUT_MS: '1000', AUDIT_INTERVAL_MS: '2000', MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0' };

let platform: Platform;
let dbUrl: string;
let admin: string;

before(
  async () => {
    platform = await startPlatform({ serviceEnv: { order: orderEnv } });
    dbUrl = adminUrlOn(platform.db);
    admin = await login(platform.procs.user.base, platform.admin.email, platform.admin.password);
  },
  { timeout: 120_000 },
);

after(() => platform?.stop());

const sql = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => sqlOn<R>(dbUrl, text, values);

/** Every answer's status, by what was asked, and the 5xx that were not a 503 with Retry-After. */
class Answers {
  readonly seen = new Map<string, Map<number, number>>();
  readonly wrong: string[] = [];
  note(what: string, res: { status: number; headers: Headers; text: string } | null): void {
    const status = res?.status ?? 0;
    const byStatus = this.seen.get(what) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.seen.set(what, byStatus);
    if (!res) this.wrong.push(`${what}: no answer`);
    else if (res.status >= 500 && !(res.status === 503 && Number(res.headers.get('retry-after')) >= 1)) this.wrong.push(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  }
  summary(): string {
    return JSON.stringify(Object.fromEntries([...this.seen].map(([k, v]) => [k, Object.fromEntries(v)])));
  }
}

describe('PostgreSQL terminates the services\' connections under load', { timeout: 180_000 }, () => {
  it('when backends are terminated every few hundred ms while orders are placed, cancelled and products restocked, then every answer is final or a 503 + Retry-After, and the books balance', async () => {
    const initial = new Map<string, number>();
    const restocked = new Map<string, number>();
    const products: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { id } = await createProduct(platform.procs.product.base, admin, { sku: `TERM-${randomUUID()}`, name: 'Terminated', priceCents: 100, stock: 60 });
      initial.set(id, 60);
      products.push(id);
    }
    const tokens = await Promise.all(Array.from({ length: 4 }, async (_, i) => (await createCustomer(platform.procs.user.base, `term${i}`)).token));
    const answers = new Answers();
    const answeredKeys = new Set<string>();
    const stopAt = Date.now() + LOAD_MS;
    const running = () => Date.now() < stopAt;
    const gateway = platform.procs.gateway.base;

    const shopper = async (token: string) => {
      while (running()) {
        const key = randomUUID();
        const items = [{ productId: products[randomInt(products.length)]!, quantity: randomInt(1, 4) }];
        for (let attempt = 0; attempt < 60; attempt++) {
          const res = await http<{ id?: string; orderId?: string; status?: string }>(gateway, 'POST', '/order', { token, body: { items }, headers: { 'idempotency-key': key } }).catch(() => null);
          answers.note('place', res);
          if (res?.body?.id || res?.body?.orderId) answeredKeys.add(key);
          if (res && res.status < 500) {
            if (res.status <= 201 && res.body.id && randomInt(3) === 0) {
              for (let c = 0; c < 60; c++) {
                const cancel = await http(gateway, 'POST', `/order/${res.body.id}/cancel`, { token }).catch(() => null);
                answers.note('cancel', cancel);
                if (cancel && cancel.status < 500) break;
                await sleep(100);
              }
            }
            break;
          }
          await sleep(100);
        }
      }
    };
    const restocker = async () => {
      while (running()) {
        const id = products[randomInt(products.length)]!;
        const delta = randomInt(1, 6);
        const key = randomUUID();
        for (let attempt = 0; attempt < 60; attempt++) {
          const res = await http(gateway, 'POST', `/product/${id}/stock`, { token: admin, body: { delta }, headers: { 'idempotency-key': key } }).catch(() => null);
          answers.note('restock', res);
          if (res?.status === 200) restocked.set(id, (restocked.get(id) ?? 0) + delta);
          if (res && res.status < 500) break;
          await sleep(100);
        }
        await sleep(150);
      }
    };
    let terminated = 0;
    const terminator = async () => {
      const roles = [platform.db.roles.order.role, platform.db.roles.product.role, platform.db.roles.user.role];
      while (running()) {
        await sleep(randomInt(100, 400));
        // Some of the services' connections at a time: idle ones, ones in a statement, ones in a transaction.
        const rows = await sql<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND usename = ANY($1) AND pid <> pg_backend_pid() AND random() < 0.5`,
          [roles],
        );
        terminated += rows[0]?.n ?? 0;
      }
    };
    await Promise.all([...tokens.map(shopper), restocker(), terminator()]);
    console.log(`# ${terminated} backends terminated; answers ${answers.summary()}`);
    assert.ok(terminated > 10, `terminated ${terminated}`);
    assert.deepEqual(answers.wrong.slice(0, 10), [], `${answers.wrong.length} answers neither final nor 503 + Retry-After`);

    // Settled: nothing in flight once the last deadline and a few reconciler passes are over.
    const t0 = Date.now();
    for (;;) {
      const [row] = await sql<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('pending', 'cancelling')");
      if (row!.n === 0) break;
      if (Date.now() - t0 > 15_000) assert.fail(`still in flight: ${JSON.stringify(await sql("SELECT id, status, lease_until, deadline_at FROM orders.orders WHERE status IN ('pending', 'cancelling') LIMIT 5"))}`);
      await sleep(200);
    }
    const stocks = await sql<{ id: string; stock: number }>('SELECT id, stock FROM catalog.products WHERE id = ANY($1::uuid[])', [products]);
    const confirmed = await sql<{ product_id: string; units: number }>(
      `SELECT (l->>'productId')::uuid AS product_id, sum((l->>'quantity')::int)::int AS units
       FROM orders.orders o, jsonb_array_elements(o.items) l WHERE o.status = 'confirmed' GROUP BY 1`,
    );
    const taken = new Map(confirmed.map((r) => [r.product_id, r.units]));
    for (const { id, stock } of stocks) assert.equal(stock, initial.get(id)! + (restocked.get(id) ?? 0) - (taken.get(id) ?? 0), `stock of ${id} = initial + restocked - confirmed`);
    const mismatched = await sql(
      `SELECT o.id, o.status, r.status AS reservation FROM orders.orders o FULL JOIN catalog.reservations r ON r.order_id = o.id
       WHERE (o.status = 'confirmed') IS DISTINCT FROM (r.status = 'reserved') AND (o.status = 'confirmed' OR r.status = 'reserved')`,
    );
    assert.deepEqual(mismatched, [], 'a reservation is held exactly for each confirmed order');
    const perKey = await sql<{ n: number }>('SELECT count(*)::int AS n FROM orders.orders WHERE idempotency_key = ANY($1) GROUP BY idempotency_key', [[...answeredKeys]]);
    assert.equal(perKey.length, answeredKeys.size, 'every answered key has an order');
    assert.ok(perKey.every((r) => r.n === 1), 'one order per key');
    const states = await sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM orders.orders GROUP BY 1 ORDER BY 1');
    console.log(`# orders ${JSON.stringify(Object.fromEntries(states.map((s) => [s.status, s.n])))}`);
    for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${p.name} is alive`);
  });
});
