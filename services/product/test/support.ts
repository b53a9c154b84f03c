// Shared by this service's test files: the running stack, tokens and problem assertions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { assertProblem, createTestDatabase, http, metricValue, uniqueEmail, type ProblemJson, type TestDatabase } from '@ecommerce/kit/testing';
import { ORDER_CLIENT, startUserService, type Running as UserRunning } from '@ecommerce/user-service/testing';
import { startProductService, type Running } from './harness.js';

import type { Product } from '../src/model/product.js';
export type { Product };
export interface Reservation {
  orderId: string;
  status: 'reserved' | 'released' | 'refused';
  items: { productId: string; quantity: number; unitPriceCents: number; currency: string }[];
  refusal?: Record<string, unknown>;
}
export type Problem = ProblemJson & {
  items?: { productId: string; requested: number; available: number }[];
  productIds?: string[];
  reason?: string;
  orderId?: string;
};

export interface Stack {
  db: TestDatabase;
  users: UserRunning;
  product: Running;
  base: string;
  tokens: { admin: string; customer: string; service: string; readOnlyService: string };
  close(): Promise<void>;
}

/** A fresh database, the real user service (tokens, JWKS) and the product service, all in-process. */
export async function startStack(): Promise<Stack> {
  const db = await createTestDatabase();
  const users = await startUserService(db.urls.user);
  const product = await startProductService(db.urls.product, users.base);
  const login = async (email: string, password: string) => {
    const res = await http<{ accessToken: string }>(users.base, 'POST', '/user/login', { body: { email, password } });
    assert.equal(res.status, 200, res.text);
    return res.body.accessToken;
  };
  const serviceToken = async (scope?: string) => {
    const res = await http<{ access_token: string }>(users.base, 'POST', '/user/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: ORDER_CLIENT.id, client_secret: ORDER_CLIENT.secret, ...(scope ? { scope } : {}) },
    });
    assert.equal(res.status, 200, res.text);
    return res.body.access_token;
  };
  const email = uniqueEmail('shopper');
  assert.equal((await http(users.base, 'POST', '/user/register', { body: { email, password: 'customer-pass-1', name: 'Shopper' } })).status, 201);
  const tokens = {
    admin: await login('admin@example.test', 'admin-password-123'),
    customer: await login(email, 'customer-pass-1'),
    service: await serviceToken(),
    readOnlyService: await serviceToken('reservations:read'),
  };
  return {
    db,
    users,
    product,
    base: product.base,
    tokens,
    close: async () => {
      await product.close();
      await users.close();
      await db.drop();
    },
  };
}

export function unique(tag = 'T'): string {
  return `${tag}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`.toUpperCase();
}

export { assertProblem };

export function assertErrorAt(res: { status: number; headers: Headers; body: unknown; text?: string }, path: string, context = ''): void {
  const p = assertProblem(res, 400, 'validation-failed');
  assert.ok(p.errors?.some((e) => e.path === path), `${context} expected an error at ${path}, got ${JSON.stringify(p.errors)}`);
}

export async function createProduct(stack: Stack, input: Partial<Product> & Record<string, unknown> = {}): Promise<Product> {
  const res = await http<Product>(stack.base, 'POST', '/product', {
    token: stack.tokens.admin,
    body: { sku: unique('SKU'), name: 'Test product', priceCents: 1000, stock: 10, ...input },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

export async function getProduct(stack: Stack, id: string): Promise<Product> {
  const res = await http<Product>(stack.base, 'GET', `/product/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

export { metricValue };

export { http };
