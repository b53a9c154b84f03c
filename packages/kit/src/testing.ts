import { randomBytes } from 'node:crypto';
import { dropDatabase, provisionDatabase, serviceUrl, type ServiceDatabase } from './provision.js';

export const SERVICE_DATABASES = {
  user: { role: 'ecommerce_user', password: 'user-local-password', schema: 'users' },
  product: { role: 'ecommerce_product', password: 'product-local-password', schema: 'catalog' },
  order: { role: 'ecommerce_order', password: 'order-local-password', schema: 'orders' },
} satisfies Record<string, ServiceDatabase>;

export interface TestDatabase {
  name: string;
  adminUrl: string;
  urls: Record<keyof typeof SERVICE_DATABASES, string>;
  drop(): Promise<void>;
}

/** A fresh database per test file, so runs and files never collide. DATABASE_URL is the admin connection. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL (an admin connection) must be set; `npm test` sets it');
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await provisionDatabase(adminUrl, name, Object.values(SERVICE_DATABASES));
  const urls = {
    user: serviceUrl(adminUrl, name, SERVICE_DATABASES.user),
    product: serviceUrl(adminUrl, name, SERVICE_DATABASES.product),
    order: serviceUrl(adminUrl, name, SERVICE_DATABASES.order),
  };
  return { name, adminUrl, urls, drop: () => dropDatabase(adminUrl, name) };
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Small fetch wrapper for HTTP-level tests: JSON in, JSON (or text) out. */
export async function http<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export function uniqueEmail(tag = 'user'): string {
  return `${tag}.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}@example.test`;
}
