import assert from 'node:assert/strict';
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

export interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

/** Asserts an RFC 9457 answer with the given status (and slug), with no internals leaked. */
export function assertProblem(res: { status: number; headers: Headers; body: unknown; text?: string }, status: number, slug?: string): ProblemJson {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const p = res.body as ProblemJson;
  assert.equal(p.status, status);
  assert.ok(p.type.startsWith('https://ecommerce.local/problems/'));
  assert.equal(typeof p.title, 'string');
  assert.equal(typeof p.detail, 'string');
  assert.equal(typeof p.instance, 'string');
  if (slug) assert.equal(p.type, `https://ecommerce.local/problems/${slug}`);
  assert.doesNotMatch(JSON.stringify(p), /at .*\.js:\d+|SELECT|INSERT|UPDATE |postgres/i);
  return p;
}

/** The exposition line of a metric whose labels include every given `name="value"` part. */
export function metricLine(text: string, name: string, parts: string[] = []): string | undefined {
  return text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && parts.every((p) => l.includes(p)));
}

/** That line's value, 0 when the series does not exist. */
export function metricValue(text: string, name: string, parts: string[] = []): number {
  const line = metricLine(text, name, parts);
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Listens on a random loopback port; returns the base URL. */
export async function listenOnLoopback(app: { listen(o: { host: string; port: number }): Promise<string>; server: { address(): unknown } }, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address() as { port: number } | null;
  return `http://127.0.0.1:${addr?.port ?? 0}`;
}
