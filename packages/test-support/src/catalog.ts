// Products made and read through the product service's public API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Product } from '@ecommerce/contracts';
import { http } from './http.js';

export type { Product };

export type ProductInput = Partial<Product> & Record<string, unknown>;

/** A code no other test uses (SKUs, categories), upper case. */
export function uniqueCode(tag = 'T'): string {
  return `${tag}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`.toUpperCase();
}

/** A new product, made by an admin (asserts the 201): 10 in stock at 1000 cents unless `input` says otherwise. */
export async function createProduct(productBase: string, adminToken: string, input: ProductInput = {}): Promise<Product> {
  const res = await http<Product>(productBase, 'POST', '/product', {
    token: adminToken,
    body: { sku: uniqueCode('SKU'), name: 'Test product', priceCents: 1000, stock: 10, ...input },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

export async function getProduct(productBase: string, id: string): Promise<Product> {
  const res = await http<Product>(productBase, 'GET', `/product/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

export async function stockOf(productBase: string, id: string): Promise<number> {
  return (await getProduct(productBase, id)).stock;
}
