import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { http, listenOnLoopback } from '@ecommerce/kit/testing';
import { ORDER_CLIENT, startUserService, type Running } from '@ecommerce/user-service/testing';
import { buildApp as buildProduct } from '@ecommerce/product-service';
import { loadProductConfig } from '@ecommerce/product-service/config';
import { buildApp } from '../src/app.js';
import { loadOrderConfig } from '../src/config.js';

export { ORDER_CLIENT, startUserService };
export type { Running };

/** The product service in-process; `port` lets a test stop it and bring it back at the same address. */
export async function startProduct(databaseUrl: string, userBase: string, port = 0, env: Record<string, string> = {}): Promise<Running> {
  const config = loadProductConfig({ DATABASE_URL: databaseUrl, USER_SERVICE_URL: userBase, LOG_LEVEL: 'silent', NODE_ENV: 'test', SEED_DEMO_DATA: 'false', PORT: String(port), ...env });
  const app = await buildProduct(config);
  return { app, base: await listenOnLoopback(app, port), close: () => app.close() };
}

export function orderEnv(databaseUrl: string, userBase: string, productBase: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    USER_SERVICE_URL: userBase,
    PRODUCT_SERVICE_URL: productBase,
    SERVICE_CLIENT_ID: ORDER_CLIENT.id,
    SERVICE_CLIENT_SECRET: ORDER_CLIENT.secret,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PORT: '0',
    // Tests race hundreds of orders from a few customers; the limits have their own tests.
    MAX_UNITS_PER_CUSTOMER_PER_HOUR: '1000000',
    ...env,
  };
}

export async function startOrderService(databaseUrl: string, userBase: string, productBase: string, env: Record<string, string> = {}): Promise<Running> {
  const app = await buildApp(loadOrderConfig(orderEnv(databaseUrl, userBase, productBase, env)));
  return { app, base: await listenOnLoopback(app), close: () => app.close() };
}

/** The order service as a real child process (for SIGKILL tests). */
export async function spawnOrderProcess(env: Record<string, string>, port: number): Promise<{ child: ChildProcess; base: string; exited: Promise<NodeJS.Signals | number | null> }> {
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const child = spawn(process.execPath, [main], { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const base = `http://127.0.0.1:${port}`;
  // Generous: on a loaded machine (a CI runner, parallel test files) a start can take many seconds.
  for (let i = 0; i < 600; i++) {
    try {
      if ((await http(base, 'GET', '/readyz')).status === 200) return { child, base, exited };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`order process exited: ${stderr}`);
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`order process did not become ready: ${stderr}`);
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Product {
  id: string;
  sku: string;
  stock: number;
  priceCents: number;
  currency: string;
  version: number;
}

/** A customer account with a fresh access token. */
export async function customer(userBase: string): Promise<{ id: string; token: string }> {
  const { uniqueEmail } = await import('@ecommerce/kit/testing');
  const email = uniqueEmail('buyer');
  const reg = await http<{ id: string }>(userBase, 'POST', '/user/register', { body: { email, password: 'password-123', name: 'Buyer' } });
  const login = await http<{ accessToken: string }>(userBase, 'POST', '/user/login', { body: { email, password: 'password-123' } });
  if (reg.status !== 201 || login.status !== 200) throw new Error(`cannot create customer: ${reg.text} ${login.text}`);
  return { id: reg.body.id, token: login.body.accessToken };
}

export async function adminToken(userBase: string): Promise<string> {
  const res = await http<{ accessToken: string }>(userBase, 'POST', '/user/login', { body: { email: 'admin@example.test', password: 'admin-password-123' } });
  if (res.status !== 200) throw new Error(`admin login failed: ${res.text}`);
  return res.body.accessToken;
}

let skuCounter = 0;
export async function createProduct(productBase: string, admin: string, stock: number, priceCents = 1000): Promise<Product> {
  const sku = `SKU-${process.pid}-${Date.now().toString(36)}-${skuCounter++}`;
  const res = await http<Product>(productBase, 'POST', '/product', { token: admin, body: { sku, name: `Test ${sku}`, priceCents, stock, category: 'test' } });
  if (res.status !== 201) throw new Error(`cannot create product: ${res.status} ${res.text}`);
  return res.body;
}

export async function stockOf(productBase: string, id: string): Promise<number> {
  const res = await http<Product>(productBase, 'GET', `/product/${id}`);
  return res.body.stock;
}
