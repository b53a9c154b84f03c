// PostgreSQL outages other than a crash (availability-db kills the postmaster, backend-kill terminates sessions, hangs
// locks catalog.products): a fast and an immediate shutdown then a start, the server read-only for a while (a standby,
// the old primary of a failover), and every connection slot taken by another client. A server of this file's own
// (tests/src/embedded-postgres.ts), the platform as real processes against it, customers placing and cancelling
// orders, an admin restocking and newcomers registering meanwhile, every client retrying a 503 with the same key. Then:
//   every answer is final or 503 problem+json with Retry-After, none slower than the gateway's upstream timeout;
//   readiness says so while the database cannot serve, and comes back by itself;
//   the 5xx metric an alert reads moves;
//   by admin SQL: stock = initial + restocked - confirmed units, a reservation held exactly for each confirmed order,
//   one order per answered key, nothing pending or cancelling a reconciler horizon later, every account answered
//   201 there once and whole.
// Bounded: about 8 s of load per outage on loopback.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { adminUrlOn, assertProblem, createCustomer, createProduct, heldLocks, http, login, sql as sqlOn, uniqueEmail, type HttpResult } from '@ecommerce/test-support';
import { ownPostgres, type OwnPostgres } from '../src/embedded-postgres.js';
import { latencyBound, startPlatform, type Platform, type ServiceName } from '../src/platform.js';

const ORDER_ENV = { PENDING_DEADLINE_MS: '3000', RECONCILER_INTERVAL_MS: '300', RESERVATION_TIMEOUT_MS: '1000', AUDIT_INTERVAL_MS: '2000', MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0' };
// The load registers and logs in from one address far past the per-address budgets (tested in services/user/test/throttle).
const USER_ENV = { LOGIN_MAX_PER_ADDRESS: '100000', TOKEN_MAX_PER_ADDRESS: '100000', REGISTER_MAX_PER_ADDRESS: '100000' };
/** The gateway's UPSTREAM_TIMEOUT_MS default. */
const GATEWAY_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 60;
const DATA_SERVICES = ['user', 'product', 'order'] as const;

// embedded-postgres stops its server and exits on SIGINT/SIGTERM; this file handles its own teardown.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);

let server: OwnPostgres;
let platform: Platform;
let dbUrl: string;
let admin: string;
let tokens: string[];

before(
  async () => {
    server = await ownPostgres({ maxConnections: MAX_CONNECTIONS });
    platform = await startPlatform({ adminUrl: server.adminUrl, serviceEnv: { order: ORDER_ENV, user: USER_ENV } });
    // platform.db is made on this server: its adminUrl is server.adminUrl.
    dbUrl = adminUrlOn(platform.db);
    admin = await login(platform.procs.user.base, platform.admin.email, platform.admin.password);
    tokens = await Promise.all([1, 2, 3, 4].map(async () => (await createCustomer(platform.procs.user.base, 'outage')).token));
  },
  { timeout: 120_000 },
);

after(async () => {
  await platform?.stop();
  await server?.stop();
});

/** Admin SQL on the platform's database; waits (bounded) for a server that is starting. */
async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sqlOn<R>(dbUrl, text, values);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (attempt >= 120 || !['57P03', '57P01', 'ECONNREFUSED', 'ECONNRESET'].includes(code)) throw err;
      await sleep(250);
    }
  }
}

const base = (name: ServiceName) => platform.procs[name].base;

interface Answer {
  what: string;
  status: number;
  ms: number;
  at: number;
  contentType: string;
  retryAfter: string | null;
  text: string;
}

/** What one outage's load did, to check the answers and the books against. */
class Run {
  readonly answers: Answer[] = [];
  readonly initial = new Map<string, number>();
  readonly restocked = new Map<string, number>();
  readonly answeredKeys = new Set<string>();
  /** Emails whose registration was answered 201, or 409 after a 503 (the first attempt did commit). */
  readonly accounts = new Map<string, string>();
  readonly products: string[] = [];

  async ask<T>(what: string, call: () => Promise<HttpResult<T>>): Promise<HttpResult<T> | null> {
    const at = Date.now();
    const res = await call().catch((err: Error) => ({ status: 0, headers: new Headers(), body: undefined as T, text: String(err) }));
    this.answers.push({ what, status: res.status, ms: Date.now() - at, at, contentType: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), text: res.text.slice(0, 300) });
    return res.status === 0 ? null : res;
  }

  async setUp(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const { id } = await createProduct(base('product'), admin, { sku: `OUTAGE-${randomUUID()}`, name: 'Outage', priceCents: 100, stock: 100_000 });
      this.initial.set(id, 100_000);
      this.products.push(id);
    }
  }

  /** Until `running()` is false: placements (a third cancelled), keyed restocks and registrations through the gateway. */
  async load(running: () => boolean): Promise<void> {
    const gateway = base('gateway');
    const retrying = async <T>(what: string, call: () => Promise<HttpResult<T>>): Promise<HttpResult<T> | null> => {
      let res: HttpResult<T> | null = null;
      for (let attempt = 0; attempt < 80; attempt++) {
        res = await this.ask(what, call);
        if (res && res.status !== 503) return res;
        await sleep(100);
      }
      return res;
    };
    const shopper = async (token: string) => {
      while (running()) {
        const key = randomUUID();
        const items = [{ productId: this.products[randomInt(this.products.length)]!, quantity: randomInt(1, 4) }];
        const placed = await retrying<{ id?: string; orderId?: string }>('place', () => http(gateway, 'POST', '/order', { token, body: { items }, headers: { 'idempotency-key': key } }));
        if (placed?.body?.id || placed?.body?.orderId) this.answeredKeys.add(key);
        if (placed && placed.status <= 201 && placed.body.id && randomInt(3) === 0) {
          await retrying('cancel', () => http(gateway, 'POST', `/order/${placed.body.id}/cancel`, { token }));
        }
      }
    };
    const restocker = async () => {
      while (running()) {
        const id = this.products[randomInt(this.products.length)]!;
        const delta = randomInt(1, 6);
        const key = randomUUID();
        const res = await retrying('restock', () => http(gateway, 'POST', `/product/${id}/stock`, { token: admin, body: { delta }, headers: { 'idempotency-key': key } }));
        if (res?.status === 200) this.restocked.set(id, (this.restocked.get(id) ?? 0) + delta);
        await sleep(100);
      }
    };
    const registrar = async () => {
      while (running()) {
        const email = uniqueEmail('outage');
        const password = `pw-${randomUUID()}`;
        let refused = false;
        for (let attempt = 0; attempt < 80; attempt++) {
          const res = await this.ask('register', () => http(gateway, 'POST', '/user/register', { body: { email, password, name: 'Outage' } }));
          if (res?.status === 201 || (res?.status === 409 && refused)) this.accounts.set(email, password);
          if (res && res.status !== 503) break;
          refused = true;
          await sleep(100);
        }
      }
    };
    await Promise.all([...tokens.map(shopper), restocker(), registrar()]);
  }

  /** Answers that are neither final nor a 503 problem+json with Retry-After, or that took longer than the gateway waits. */
  wrongAnswers(): string[] {
    const slowest = GATEWAY_TIMEOUT_MS + latencyBound(1_500);
    return this.answers
      .filter((a) => a.status === 0 || (a.status >= 500 && !(a.status === 503 && Number(a.retryAfter) >= 1 && /^application\/problem\+json/.test(a.contentType))) || a.ms > slowest)
      .map((a) => `${a.what}: ${a.status} after ${a.ms} ms ${a.text}`);
  }

  summary(): string {
    const by = new Map<string, Map<number, number>>();
    for (const a of this.answers) {
      const m = by.get(a.what) ?? new Map<number, number>();
      m.set(a.status, (m.get(a.status) ?? 0) + 1);
      by.set(a.what, m);
    }
    const slowest = Object.fromEntries([...by.keys()].map((k) => [k, Math.max(...this.answers.filter((a) => a.what === k).map((a) => a.ms))]));
    return `${JSON.stringify(Object.fromEntries([...by].map(([k, v]) => [k, Object.fromEntries(v)])))}, slowest ms ${JSON.stringify(slowest)}`;
  }

  /** The books, by admin SQL, once nothing is in flight any more (bounded). */
  async assertBooks(label: string): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const [row] = await sql<{ n: number }>("SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('pending', 'cancelling')");
      if (row!.n === 0) break;
      if (Date.now() - t0 > latencyBound(20_000)) assert.fail(`${label}: still in flight: ${JSON.stringify(await sql("SELECT id, status, lease_until, deadline_at FROM orders.orders WHERE status IN ('pending', 'cancelling') LIMIT 5"))}`);
      await sleep(200);
    }
    const stocks = await sql<{ id: string; stock: number }>('SELECT id, stock FROM catalog.products WHERE id = ANY($1::uuid[])', [this.products]);
    const confirmed = await sql<{ product_id: string; units: number }>(
      `SELECT (l->>'productId')::uuid AS product_id, sum((l->>'quantity')::int)::int AS units
       FROM orders.orders o, jsonb_array_elements(o.items) l WHERE o.status = 'confirmed' GROUP BY 1`,
    );
    const taken = new Map(confirmed.map((r) => [r.product_id, r.units]));
    for (const { id, stock } of stocks) assert.equal(stock, this.initial.get(id)! + (this.restocked.get(id) ?? 0) - (taken.get(id) ?? 0), `${label}: stock of ${id} = initial + restocked - confirmed`);
    const mismatched = await sql(
      `SELECT o.id, o.status, r.status AS reservation FROM orders.orders o FULL JOIN catalog.reservations r ON r.order_id = o.id
       WHERE (o.status = 'confirmed') IS DISTINCT FROM (r.status = 'reserved') AND (o.status = 'confirmed' OR r.status = 'reserved')`,
    );
    assert.deepEqual(mismatched, [], `${label}: a reservation is held exactly for each confirmed order`);
    const perKey = await sql<{ n: number }>('SELECT count(*)::int AS n FROM orders.orders WHERE idempotency_key = ANY($1) GROUP BY idempotency_key', [[...this.answeredKeys]]);
    assert.equal(perKey.length, this.answeredKeys.size, `${label}: every answered key has an order`);
    assert.ok(perKey.every((r) => r.n === 1), `${label}: one order per key`);
    const users = await sql<{ email: string; n: number; whole: boolean }>(
      "SELECT email, count(*)::int AS n, bool_and(password_hash LIKE '$argon2id$%' AND name = 'Outage' AND role = 'customer') AS whole FROM users.users WHERE email = ANY($1) GROUP BY email",
      [[...this.accounts.keys()]],
    );
    assert.equal(users.length, this.accounts.size, `${label}: every account answered is there`);
    assert.ok(users.every((u) => u.n === 1 && u.whole), `${label}: once and whole: ${JSON.stringify(users.filter((u) => u.n !== 1 || !u.whole))}`);
    // And usable: the last few sign in with the password they registered with.
    for (const [email, password] of [...this.accounts].slice(-3)) assert.equal((await http(base('gateway'), 'POST', '/user/login', { body: { email, password } })).status, 200, `${label}: ${email} signs in`);
    for (const p of Object.values(platform.procs)) assert.equal(p.exited, false, `${label}: ${p.name} is alive: ${p.lines.slice(-10).join('\n')}`);
  }
}

/**
 * 5xx answers a service has counted, as service:http_5xx:rate5m reads them for HighErrorRatio and the SLO burn alerts
 * (deploy/monitoring/rules/recording.yml): not /livez, /readyz or /metrics, not 501 or 505.
 */
async function serverErrors(name: ServiceName): Promise<number> {
  const text = (await http(base(name), 'GET', '/metrics')).text;
  return text
    .split('\n')
    .filter((l) => l.startsWith('http_server_request_duration_seconds_count{') && /http_response_status_code="5\d\d"/.test(l))
    .filter((l) => !/http_route="\/(livez|readyz|metrics)"|http_response_status_code="50[15]"/.test(l))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function readiness(): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(DATA_SERVICES.map(async (n) => [n, (await http(base(n), 'GET', '/readyz').catch(() => ({ status: 0 }))).status])));
}

/** Every data service ready again, within `ms`. */
async function awaitReady(label: string, ms = latencyBound(30_000)): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ready = await readiness();
    if (Object.values(ready).every((s) => s === 200)) return;
    assert.ok(Date.now() < deadline, `${label}: not ready again after ${ms} ms: ${JSON.stringify(ready)}`);
    await sleep(200);
  }
}

/**
 * Runs the load for `loadMs` with `outage` going on inside it, and `during` (readiness probes) while the outage holds.
 * Returns the run for the checks particular to the outage.
 */
async function underLoad(label: string, outage: (watch: (probe: () => Promise<void>) => void) => Promise<void>, loadMs = 8_000): Promise<Run> {
  const run = new Run();
  await run.setUp();
  const logged = Object.fromEntries(Object.values(platform.procs).map((p) => [p.name, p.lines.length]));
  const errorsBefore = Object.fromEntries(await Promise.all(DATA_SERVICES.map(async (n) => [n, await serverErrors(n)])));
  let running = true;
  const load = run.load(() => running);
  try {
    const probes: Promise<void>[] = [];
    await sleep(1_000);
    await outage((probe) => probes.push(probe()));
    await Promise.all(probes);
    await awaitReady(label);
    const stopAt = Date.now() + Math.max(0, loadMs - 1_000);
    while (Date.now() < stopAt) await sleep(100);
  } finally {
    // Stopped whatever failed: a failure must not leave the load running.
    running = false;
    await load;
  }
  console.log(`# ${label}: ${run.answers.length} answers ${run.summary()}`);
  assert.deepEqual(run.wrongAnswers().slice(0, 10), [], `${label}: answers neither final nor 503 problem+json with Retry-After in time`);
  assert.ok(run.answers.some((a) => a.status === 503), `${label}: the outage was felt (some 503)`);
  const errorsAfter = Object.fromEntries(await Promise.all(DATA_SERVICES.map(async (n) => [n, await serverErrors(n)])));
  assert.ok(DATA_SERVICES.some((n) => errorsAfter[n]! > errorsBefore[n]!), `${label}: the 5xx count moved: ${JSON.stringify({ errorsBefore, errorsAfter })}`);
  await run.assertBooks(label);
  // An outage is warnings (503s, a reconciler pass skipped), never an error line: those are bugs (a 500) or a crash.
  for (const p of Object.values(platform.procs)) {
    const errors = p.lines.slice(logged[p.name]).filter((l) => !/^\{"level":(10|20|30|40),/.test(l));
    assert.deepEqual(errors.slice(0, 3), [], `${label}: ${p.name} logged ${errors.length} lines that are not a JSON line below error`);
  }
  // And serving again: a placement after recovery is confirmed.
  const after = await http(base('gateway'), 'POST', '/order', { token: tokens[0]!, body: { items: [{ productId: run.products[0]!, quantity: 1 }] }, headers: { 'idempotency-key': randomUUID() } });
  assert.equal(after.status, 201, `${label}: a placement after recovery: ${after.text}`);
  return run;
}

/**
 * Polls readiness until every data service has said it is not ready (bounded), recording what it saw. Not all at the
 * same moment: while connection slots come and go, one service may hold a connection for a while.
 */
function notReadyWithin(label: string, ms: number, seen: Record<string, number>[]): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + ms;
    const down = new Set<string>();
    for (;;) {
      const ready = await readiness();
      seen.push(ready);
      for (const [name, status] of Object.entries(ready)) if (status === 503) down.add(name);
      if (down.size === DATA_SERVICES.length) return;
      if (Date.now() > deadline) assert.fail(`${label}: readiness while the database could not serve: ${JSON.stringify(seen.slice(-3))}`);
      await sleep(150);
    }
  };
}

describe('PostgreSQL outages under load', { timeout: 600_000 }, () => {
  for (const [shutdown, signal] of [
    ['fast', 'SIGINT'],
    ['immediate', 'SIGQUIT'],
  ] as const) {
    it(`when the server has a ${shutdown} shutdown mid-load and is started again 3 s later, then answers are final or 503 + Retry-After, readiness goes down and up, and the books balance`, async () => {
      const seen: Record<string, number>[] = [];
      await underLoad(`${shutdown} shutdown`, async () => {
        const pid = server.signal(signal);
        await server.exited(pid);
        await notReadyWithin(`${shutdown} shutdown`, 3_000, seen)();
        await sleep(1_500);
        await server.start();
      });
    });
  }

  it('when the server takes no writes for 4 s (default_transaction_read_only, as a standby or a demoted primary), then writes answer 503 + Retry-After, reads are served, and the books balance once it takes writes again', async () => {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    try {
      await admin.query('SET default_transaction_read_only = off');
      const run = await underLoad('read-only', async () => {
        await admin.query('ALTER SYSTEM SET default_transaction_read_only = on');
        await admin.query('SELECT pg_reload_conf()');
        try {
          await sleep(1_000);
          // Reads are served meanwhile: the catalog and a customer's orders.
          for (const [name, path, token] of [['product', `/product?limit=5`, undefined], ['order', '/order', tokens[0]]] as const) {
            const read = await http(base(name), 'GET', path, { token });
            assert.equal(read.status, 200, `a read of ${path} while read-only: ${read.text.slice(0, 200)}`);
          }
          await sleep(3_000);
        } finally {
          await admin.query('ALTER SYSTEM RESET default_transaction_read_only');
          await admin.query('SELECT pg_reload_conf()');
        }
      });
      assert.ok(run.answers.some((a) => a.what !== 'place' && a.status === 503), 'writes were refused 503 while read-only');
    } finally {
      await admin.end();
    }
  });

  it('when another session holds orders.orders and users.users in ACCESS EXCLUSIVE mode for 11 s (past the 8 s statement timeout), then placements, cancels and registrations answer 503 + Retry-After before the gateway gives up, and the books balance', async () => {
    const locker = new pg.Client({ connectionString: dbUrl });
    await locker.connect();
    try {
      await underLoad('orders and users locked', async () => {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE orders.orders, users.users IN ACCESS EXCLUSIVE MODE');
        try {
          await sleep(11_000);
        } finally {
          await locker.query('ROLLBACK');
        }
      });
    } finally {
      await locker.end();
    }
  });

  it('when every PostgreSQL process is stopped (SIGSTOP) for 12 s, a server hung, then answers are final or 503 + Retry-After before the gateway gives up, readiness goes down and up, and the books balance', async () => {
    const seen: Record<string, number>[] = [];
    await underLoad('server hung', async (watch) => {
      server.freeze(true);
      try {
        watch(notReadyWithin('server hung', 10_000, seen));
        await sleep(12_000);
      } finally {
        server.freeze(false);
      }
    });
  });

  it('when the role has a transaction_timeout (PostgreSQL 17, set by the administrator) and a statement waits past it on another session\'s lock, then 503 problem+json with Retry-After, not a 500', async () => {
    const role = platform.db.roles.product.role;
    const { id } = await createProduct(base('product'), admin, { sku: `TXTO-${randomUUID()}`, name: 'Timeout', priceCents: 100, stock: 5 });
    const endSessions = () => sqlOn(server.adminUrl, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await sqlOn(server.adminUrl, `ALTER ROLE ${role} SET transaction_timeout = '300ms'`);
    await endSessions();
    const held = await heldLocks(dbUrl, 'LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE');
    try {
      const res = await http(base('product'), 'GET', `/product/${id}`);
      assertProblem(res, 503, 'service-unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1, `Retry-After ${res.headers.get('retry-after')}`);
    } finally {
      await held.end();
      await sqlOn(server.adminUrl, `ALTER ROLE ${role} RESET transaction_timeout`);
      await endSessions();
    }
    await awaitReady('transaction_timeout');
    assert.equal((await http(base('product'), 'GET', `/product/${id}`)).status, 200);
  });

  it('when another client holds every connection slot for 4 s and the services lose theirs, then answers are final or 503 + Retry-After, readiness goes down and up, and the books balance', async () => {
    const seen: Record<string, number>[] = [];
    const holders: pg.Client[] = [];
    const hog = new URL(server.adminUrl);
    // A role of its own, not a superuser: it cannot take the reserved slots, the admin can still terminate.
    const hogRole = `hog_${randomUUID().slice(0, 8)}`;
    await sqlOn(server.adminUrl, `CREATE ROLE ${hogRole} LOGIN PASSWORD 'hog'`);
    hog.username = hogRole;
    hog.password = 'hog';
    const fill = async () => {
      for (let i = 0; i < MAX_CONNECTIONS; i++) {
        const c = new pg.Client({ connectionString: hog.toString() });
        c.on('error', () => undefined);
        try {
          await c.connect();
          holders.push(c);
        } catch {
          return;
        }
      }
    };
    // The terminating session is opened before the slots are taken: a new one may find none left, reserved or not.
    const terminator = new pg.Client({ connectionString: server.adminUrl });
    await terminator.connect();
    try {
      // The services' sessions: the platform's database, any role but the admin's.
      const ofServices = 'FROM pg_stat_activity WHERE datname = $1 AND usename <> $2 AND pid <> pg_backend_pid()';
      const terminate = () => terminator.query(`SELECT pg_terminate_backend(pid) ${ofServices}`, [platform.db.name, 'postgres']);
      const serviceSessions = async () => (await terminator.query<{ n: number }>(`SELECT count(*)::int AS n ${ofServices}`, [platform.db.name, 'postgres'])).rows[0]!.n;
      await underLoad('slots taken', async (watch) => {
        await fill();
        // Taken in full before the 4 s start: terminated sessions free their slots as their backends exit, and a
        // service reconnecting under load could win a freed slot before the hog on every turn of a slower loop (CI
        // once saw the user service keep one all 4 s and stay ready, rightly: it could serve). So: terminate and
        // fill again until no service session is left with every slot taken (the hog's last connect refused).
        for (const settleBy = Date.now() + latencyBound(15_000); ; ) {
          await terminate();
          await sleep(20);
          await fill();
          if ((await serviceSessions()) === 0) break;
          assert.ok(Date.now() < settleBy, 'slots taken: the services kept a session while the hog filled every slot');
        }
        const until = Date.now() + 4_000;
        watch(notReadyWithin('slots taken', latencyBound(4_000), seen));
        while (Date.now() < until) {
          await terminate();
          await fill();
          await sleep(200);
        }
        await Promise.all(holders.splice(0).map((c) => c.end().catch(() => undefined)));
      });
    } finally {
      await terminator.end();
      await Promise.all(holders.map((c) => c.end().catch(() => undefined)));
      await sqlOn(server.adminUrl, `DROP ROLE IF EXISTS ${hogRole}`).catch(() => undefined);
    }
  });
});
