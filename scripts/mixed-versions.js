// `node scripts/mixed-versions.js <checkout of the previous release>`: a rolling update on one machine. Starts the
// previous release's platform (its tests/dist/src/platform.js, on a fresh database of DATABASE_URL's server) and puts
// shoppers on it (place, cancel, search, restock, login, refresh); then starts this checkout's product service beside
// it (its migrations run while the old one serves), this checkout's order service against the old product service and
// its user service, the previous release's order service against the new product service, and this checkout's order
// service against it, and sends the traffic through every pair. At the end: an out-of-stock and an unknown-product
// order through every order->product pair, then the invariants read from the database. Exits 1 when any request got a
// 5xx or no answer, a refusal was not answered 404/409, an order is confirmed without a held reservation or the
// reverse, or stock + held units differ from what was created and restocked. Both checkouts must be built
// (`npm ci && npm run build`). About a minute; docs/deploy.md, "Rolling updates and migrations".
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const newTree = fileURLToPath(new URL('..', import.meta.url));
const oldTree = process.argv[2] ? resolve(process.argv[2]) : '';
const oldPlatform = join(oldTree, 'tests', 'dist', 'src', 'platform.js');
if (!oldTree || !existsSync(oldPlatform)) {
  console.error('usage: node scripts/mixed-versions.js <built checkout of the previous release> (DATABASE_URL: an admin connection)');
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL must name an admin connection to a PostgreSQL server');
  process.exit(2);
}
const { startPlatform, NODE_HEAP_ARGS } = await import(pathToFileURL(oldPlatform).href);
const log = (...a) => console.log(new Date().toISOString().slice(11, 23), ...a);
const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

// No budgets in the way: every request comes from 127.0.0.1, the services' own token requests included.
const old = await startPlatform({
  logLevel: 'warn',
  serviceEnv: {
    order: { MAX_UNITS_PER_CUSTOMER_PER_HOUR: '0' },
    user: { LOGIN_MAX_PER_ADDRESS: '100000', TOKEN_MAX_PER_ADDRESS: '100000', REGISTER_MAX_PER_ADDRESS: '1000' },
  },
});
const extra = [];
const failures = [];

async function req(base, method, path, body, token, headers = {}) {
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, json: String(err), ms: performance.now() - t0 };
  }
}

async function launch(tree, name, env, label) {
  const port = await freePort();
  const child = spawn(process.execPath, [...NODE_HEAP_ARGS, join(tree, 'services', name, 'dist', 'src', 'main.js')], {
    env: { PATH: process.env.PATH, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (c) => lines.push(...c.split('\n').filter(Boolean)));
  }
  const p = { label, child, base: `http://127.0.0.1:${port}`, lines };
  extra.push(p);
  const t0 = performance.now();
  while (performance.now() - t0 < 120_000) {
    if (child.exitCode !== null) throw new Error(`${label} exited: ${lines.slice(-10).join('\n')}`);
    if ((await req(p.base, 'GET', '/readyz')).status === 200) {
      log(`${label} ready in ${Math.round(performance.now() - t0)} ms`);
      return p;
    }
    await sleep(200);
  }
  throw new Error(`${label} not ready in 120 s: ${lines.slice(-10).join('\n')}`);
}

const stats = new Map();
function count(key, r) {
  const k = `${key} ${r.status}`;
  stats.set(k, (stats.get(k) ?? 0) + 1);
  if (r.status === 0 || r.status >= 500) failures.push(`${key}: ${r.status} after ${Math.round(r.ms)} ms ${JSON.stringify(r.json).slice(0, 300)}`);
}

let code = 0;
try {
  const U = old.procs.user.base;
  const P = old.procs.product.base;
  const O = old.procs.order.base;
  const adminToken = (await req(U, 'POST', '/user/login', old.admin)).json.accessToken;
  const products = [];
  const initialStock = 500;
  let restocked = 0;
  for (let i = 0; i < 6; i++) {
    const r = await req(P, 'POST', '/product', { sku: `MIX-${i}`, name: `Mixed thing ${i}`, description: 'For the mixed-version run', priceCents: 100 + i, stock: initialStock, category: 'Mixed' }, adminToken);
    if (r.status !== 201) throw new Error(`creating a product: ${r.status} ${JSON.stringify(r.json)}`);
    products.push(r.json.id);
  }
  const soldOut = await req(P, 'POST', '/product', { sku: 'MIX-SOLD-OUT', name: 'Mixed sold out', priceCents: 100, stock: 0 }, adminToken);
  if (soldOut.status !== 201) throw new Error(`creating a product: ${soldOut.status} ${JSON.stringify(soldOut.json)}`);
  const customers = [];
  for (let i = 0; i < 6; i++) {
    const email = `mix${i}@example.test`;
    const password = `pw-${randomUUID()}`;
    await req(U, 'POST', '/user/register', { email, password, name: `Mix ${i}` });
    const l = await req(U, 'POST', '/user/login', { email, password });
    customers.push({ email, password, token: l.json.accessToken, refresh: l.json.refreshToken });
  }
  const targets = { order: [{ label: 'old-order->old-product', base: O }], product: [{ label: 'old-product', base: P }], user: [{ label: 'old-user', base: U }] };
  let stop = false;
  const worker = async (i) => {
    const c = customers[i % customers.length];
    for (let n = 1; !stop; n++) {
      const ot = targets.order[n % targets.order.length];
      const pid = products[(i + n) % products.length];
      const r = await req(ot.base, 'POST', '/order', { items: [{ productId: pid, quantity: 1 + (n % 3) }] }, c.token, { 'idempotency-key': randomUUID() });
      count(`POST /order via ${ot.label}`, r);
      if (r.json?.id && n % 3 === 0) {
        const ct = targets.order[(n + 1) % targets.order.length];
        count(`cancel via ${ct.label}`, await req(ct.base, 'POST', `/order/${r.json.id}/cancel`, undefined, c.token));
      }
      const pt = targets.product[n % targets.product.length];
      count(`search via ${pt.label}`, await req(pt.base, 'GET', '/product?q=mixed&category=Mixed'));
      if (n % 5 === 0) {
        const s = await req(pt.base, 'POST', `/product/${pid}/stock`, { delta: 2 }, adminToken);
        count(`restock via ${pt.label}`, s);
        if (s.status === 200) restocked += 2;
      }
      const ut = targets.user[n % targets.user.length];
      if (n % 4 === 0) {
        const l = await req(ut.base, 'POST', '/user/login', { email: c.email, password: c.password });
        count(`login via ${ut.label}`, l);
        if (l.status === 200) Object.assign(c, { token: l.json.accessToken, refresh: l.json.refreshToken });
      }
      if (n % 4 === 2 && c.refresh) {
        // Refreshed by the other release than the one that issued it, whenever there are two.
        const rt = targets.user[(n + 1) % targets.user.length];
        const f = await req(rt.base, 'POST', '/user/token/refresh', { refreshToken: c.refresh }, undefined, { 'idempotency-key': randomUUID() });
        count(`refresh via ${rt.label}`, f);
        if (f.status === 200) Object.assign(c, { token: f.json.accessToken, refresh: f.json.refreshToken });
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  try {
    await sleep(3000);
    log('new product service starts (its migrations run) while the previous release serves');
    const np = await launch(newTree, 'product', old.envOf('product'), 'new-product');
    targets.product.push({ label: 'new-product', base: np.base });
    await sleep(3000);
    log('new order service -> old product service; new user service');
    const no = await launch(newTree, 'order', { ...old.envOf('order'), PRODUCT_SERVICE_URL: P }, 'new-order->old-product');
    targets.order.push({ label: 'new-order->old-product', base: no.base });
    const nu = await launch(newTree, 'user', old.envOf('user'), 'new-user');
    targets.user.push({ label: 'new-user', base: nu.base });
    await sleep(3000);
    log('old order service (started on the new schema) -> new product service; new order -> new product');
    const oo = await launch(oldTree, 'order', { ...old.envOf('order'), PRODUCT_SERVICE_URL: np.base }, 'old-order->new-product');
    targets.order.push({ label: 'old-order->new-product', base: oo.base });
    const nn = await launch(newTree, 'order', { ...old.envOf('order'), PRODUCT_SERVICE_URL: np.base }, 'new-order->new-product');
    targets.order.push({ label: 'new-order->new-product', base: nn.base });
    await sleep(6000);
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  for (const ot of targets.order) {
    for (const [what, items, want] of [
      ['out of stock', [{ productId: soldOut.json.id, quantity: 1 }], 409],
      ['unknown product', [{ productId: randomUUID(), quantity: 1 }], 404],
    ]) {
      const r = await req(ot.base, 'POST', '/order', { items }, customers[0].token, { 'idempotency-key': randomUUID() });
      log(`${what} via ${ot.label}: ${r.status} ${r.json?.type ?? ''}`);
      if (r.status !== want) failures.push(`${what} via ${ot.label}: ${r.status}, not ${want}: ${JSON.stringify(r.json).slice(0, 300)}`);
    }
  }
  const dbUrl = new URL(old.db.adminUrl);
  dbUrl.pathname = `/${old.db.name}`;
  const db = new pg.Client({ connectionString: dbUrl.toString() });
  await db.connect();
  try {
    for (let i = 0; i < 40; i++) {
      const r = await db.query(`SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('pending', 'cancelling')`);
      if (r.rows[0].n === 0) break;
      await sleep(1000);
    }
    log('orders by status', JSON.stringify((await db.query('SELECT status, count(*)::int AS n FROM orders.orders GROUP BY 1 ORDER BY 1')).rows));
    const mismatch = await db.query(`SELECT o.id, o.status, r.status AS reservation FROM orders.orders o LEFT JOIN catalog.reservations r ON r.order_id = o.id
      WHERE (o.status = 'confirmed') <> (r.status IS NOT DISTINCT FROM 'reserved') OR o.status IN ('pending', 'cancelling')`);
    if (mismatch.rowCount) failures.push(`orders and reservations disagree: ${JSON.stringify(mismatch.rows.slice(0, 5))}`);
    const stock = (await db.query(`SELECT sum(stock)::int AS s FROM catalog.products WHERE sku LIKE 'MIX-%'`)).rows[0].s;
    const held = (await db.query(`SELECT coalesce(sum(i.quantity), 0)::int AS q FROM catalog.reservation_items i JOIN catalog.reservations r USING (order_id) WHERE r.status = 'reserved'`)).rows[0].q;
    log(`stock ${stock} + held ${held} = ${stock + held}; created and restocked ${products.length * initialStock + restocked}`);
    if (stock + held !== products.length * initialStock + restocked) failures.push(`stock ${stock} + held ${held} != ${products.length * initialStock + restocked}`);
  } finally {
    await db.end();
  }
  console.log([...stats.entries()].sort().map(([k, v]) => `  ${k}: ${v}`).join('\n'));
} catch (err) {
  failures.push(`the run stopped: ${err.stack ?? err}`);
} finally {
  for (const p of extra) p.child.kill('SIGTERM');
  await sleep(1000);
  await old.stop();
}
if (failures.length) {
  code = 1;
  console.log(`FAILED (${failures.length}):\n${failures.slice(0, 30).join('\n')}`);
} else console.log('mixed versions: every answer as expected, invariants hold');
process.exit(code);
