import type { Product } from '@ecommerce/contracts';
import { BadRequest, Conflict, NotFound } from '@ecommerce/kit';
import type { ProductInsert, ProductRow } from '../data/product-repository.js';

export type { Product };

export interface NewProduct {
  sku: string;
  name: string;
  description?: string | null;
  priceCents: number;
  currency?: string;
  stock: number;
  category?: string | null;
  imageUrl?: string | null;
}

/** Every create field but stock: stock only moves through adjustments and reservations. */
export type ProductPatch = Partial<Omit<NewProduct, 'stock'>>;

/** Highest stock a product may hold; keeps stock + delta (and releases) inside a 32-bit integer. */
export const MAX_STOCK = 1_000_000_000;
const DEFAULT_CURRENCY = 'USD';

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: row.price_cents,
    currency: row.currency,
    stock: row.stock,
    category: row.category,
    imageUrl: row.image_url,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function productNotFound(): NotFound {
  return new NotFound('Product not found');
}

/** The most different words a search takes: each is a prefix the GIN index merges, and q is 200 characters. */
export const MAX_SEARCH_WORDS = 16;

export function tooManySearchWords(): BadRequest {
  return new BadRequest(`A search takes at most ${MAX_SEARCH_WORDS} different words`, [{ path: 'querystring/q', message: `must have at most ${MAX_SEARCH_WORDS} different words` }]);
}

export function skuTaken(): Conflict {
  return new Conflict('sku-taken', 'A product with this SKU already exists');
}

/** The stored columns of a new product: its id and the defaults for what the caller left out. */
export function newProductColumns(id: string, input: NewProduct): ProductInsert {
  return {
    id,
    sku: input.sku,
    name: input.name,
    description: input.description ?? null,
    priceCents: input.priceCents,
    currency: input.currency ?? DEFAULT_CURRENCY,
    stock: input.stock,
    category: input.category ?? null,
    imageUrl: input.imageUrl ?? null,
  };
}
