// What the bench scripts share: free ports, medians, JSON calls, and the shop every scenario runs against.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';

/** A port free on loopback right now (the OS picks it). */
export const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer().once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

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
