// What the bench scripts share: free ports, medians, JSON calls, and the shop every scenario runs against.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@ecommerce/kit';
import { SERVICES } from './stack.js';

/** startStack's nodeArgs: the V8 flags of a space-separated setting (BENCH_NODE_ARGS...) for every service, then `extra`. */
export function serviceNodeArgs(flags, extra = []) {
  const args = [...(flags?.split(' ').filter(Boolean) ?? []), ...extra];
  return Object.fromEntries(SERVICES.map((name) => [name, args]));
}

/** A port free on loopback right now (below the ephemeral range: see the kit's free-port.ts). */
export { freePort };

/**
 * The port variables a checkout's platform needs to run beside another: none when its stack.js picks free ports
 * itself (`freePorts`), else a free one for each.
 */
export async function platformPortsEnv(dir) {
  if (readFileSync(join(dir, 'scripts', 'stack.js'), 'utf8').includes('freePorts')) return {};
  const ports = {};
  for (const name of ['USER_PORT', 'PRODUCT_PORT', 'ORDER_PORT', 'GATEWAY_PORT', 'GATEWAY_METRICS_PORT', 'EMBEDDED_PG_PORT']) ports[name] = String(await freePort());
  return ports;
}

/** A new empty data folder under the system's temp folder (the embedded PostgreSQL runs as `postgres` when we are root). */
export function freshDataDir(prefix = 'bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Waits until the machine is quiet: less than `threshold` of its CPU busy over half a second (at most `maxMs`),
 * so a run does not share the cores with what the last one left behind (PostgreSQL's autovacuum and
 * checkpoints). It did not explain the 30-45% the platform that ran last was ahead in interleaved rounds: that
 * was its pools, see compareInterleaved in bench.js. Returns the busy share seen last; null without /proc.
 */
export async function settle({ threshold = 0.25, maxMs = 20_000 } = {}) {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3] + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
  };
  if (!existsSync('/proc/stat')) return null;
  const deadline = Date.now() + maxMs;
  let before = read();
  let busy = 1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = read();
    busy = 1 - (now.idle - before.idle) / Math.max(1, now.total - before.total);
    if (busy < threshold) break;
    before = now;
  }
  return busy;
}

/** The geometric mean: of ratios, the change that a run's position (first or second in its round) cancels out of. */
export function geometricMean(xs) {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

// Student's t, two-sided 95%, by degrees of freedom (1-20); above 20, 2.0 is close enough for a bench.
const T95 = [NaN, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09];

/**
 * The 95% confidence interval of the geometric mean of ratios (Student's t on their logarithms), as [low, high]:
 * how far one comparison can be trusted on a machine whose speed drifts. Null with fewer than two ratios.
 */
export function geometricMeanInterval(xs) {
  if (xs.length < 2) return null;
  const logs = xs.map((x) => Math.log(x));
  const mean = logs.reduce((a, l) => a + l, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, l) => a + (l - mean) ** 2, 0) / (logs.length - 1));
  const half = (T95[logs.length - 1] ?? 2) * sd / Math.sqrt(logs.length);
  return [Math.exp(mean - half), Math.exp(mean + half)];
}

export function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** One JSON call with a fresh Idempotency-Key; throws on any status from 300 up. */
export async function json(url, method, body, token) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), 'idempotency-key': randomUUID() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * 50 products with plenty of stock and 20 logged-in customers on a started platform (any checkout's stack.js:
 * only the public API is used); autocannon request builders for the scenarios and a hot item's maker.
 */
export async function seedShop(stack) {
  const { urls } = stack;
  const admin = (await json(`${urls.user}/user/login`, 'POST', stack.admin)).accessToken;
  const products = [];
  for (let i = 0; i < 50; i++) {
    products.push(await json(`${urls.product}/product`, 'POST', { sku: `BENCH-${Date.now()}-${i}`, name: `Bench product ${i}`, description: 'benchmark item', priceCents: 100 + i, stock: 10_000_000, category: 'bench' }, admin));
  }
  const tokens = [];
  for (let i = 0; i < 20; i++) {
    const email = `bench.${Date.now()}.${i}@example.test`;
    await json(`${urls.user}/user/register`, 'POST', { email, password: 'bench-password-1', name: 'Bench' });
    tokens.push((await json(`${urls.user}/user/login`, 'POST', { email, password: 'bench-password-1' })).accessToken);
  }
  let n = 0;
  const pick = (arr) => arr[n++ % arr.length];
  const readById = () => [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/product/${pick(products).id}` }) }];
  const orderRequest = (items) => ({
    method: 'POST',
    setupRequest: (req) => ({
      ...req,
      path: '/order',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pick(tokens)}`, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: items() }),
    }),
  });
  const randomItems = () => {
    const k = 1 + Math.floor(Math.random() * 3);
    return Array.from({ length: k }, () => ({ productId: products[Math.floor(Math.random() * products.length)].id, quantity: 1 + Math.floor(Math.random() * 2) }));
  };
  /** A new product with `units` in stock, for the hot-item race; its id. */
  const hotItem = async (units) => (await json(`${urls.product}/product`, 'POST', { sku: `HOT-${randomUUID()}`, name: 'Hot item', priceCents: 4999, stock: units, category: 'bench' }, admin)).id;
  return { readById, orderRequest, randomItems, hotItem };
}
