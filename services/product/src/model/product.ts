import { Conflict, NotFound, PgCode, PreconditionFailed, pgErrorCode, uuidv7, type Queryable } from '@ecommerce/kit';
import { productQueries as Q, run, type ProductRow } from './db/queries.js';

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  priceCents: number;
  currency: string;
  stock: number;
  category: string | null;
  /** Picture on this site (a path like /images/products/x.svg), null when none. */
  imageUrl: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

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
export const DEFAULT_CURRENCY = 'USD';

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
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function productNotFound(): NotFound {
  return new NotFound('Product not found');
}

function skuTaken(err: unknown): never {
  if (pgErrorCode(err) === PgCode.uniqueViolation) throw new Conflict('sku-taken', 'A product with this SKU already exists');
  throw err;
}

export async function createProduct(db: Queryable, input: NewProduct): Promise<Product> {
  try {
    const res = await run<ProductRow>(db, Q.insert, [
      uuidv7(),
      input.sku,
      input.name,
      input.description ?? null,
      input.priceCents,
      input.currency ?? DEFAULT_CURRENCY,
      input.stock,
      input.category ?? null,
      input.imageUrl ?? null,
    ]);
    return toProduct(res.rows[0]!);
  } catch (err) {
    return skuTaken(err);
  }
}

/** A malformed id is answered like an unknown one: 404, the id space is not explained to the caller. */
export async function getProduct(db: Queryable, id: string): Promise<Product> {
  if (!isUuid(id)) throw productNotFound();
  const res = await run<ProductRow>(db, Q.byId, [id]);
  if (!res.rows[0]) throw productNotFound();
  return toProduct(res.rows[0]);
}

export interface ListFilter {
  limit: number;
  afterId: string | null;
  q?: string;
  category?: string;
}

/**
 * Free text to a tsquery: every word must match as a prefix ("lap" finds "Laptop"). Only letters and digits survive,
 * so nothing the user types can be tsquery syntax; null when no word is left.
 */
export function searchQuery(q: string): string | null {
  const words = (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 16);
  return words.length ? words.map((w) => `'${w}':*`).join(' & ') : null;
}

/** Keyset page over live products in id (creation) order; returns limit+1 rows for pageOf. */
export async function listProducts(db: Queryable, f: ListFilter): Promise<ProductRow[]> {
  const more = f.limit + 1;
  const tsquery = f.q === undefined ? undefined : searchQuery(f.q);
  if (tsquery === null) return [];
  let res;
  if (tsquery !== undefined && f.category !== undefined) res = await run<ProductRow>(db, Q.searchByCategory, [f.afterId, tsquery, f.category, more]);
  else if (tsquery !== undefined) res = await run<ProductRow>(db, Q.search, [f.afterId, tsquery, more]);
  else if (f.category !== undefined) res = await run<ProductRow>(db, Q.listByCategory, [f.afterId, f.category, more]);
  else res = await run<ProductRow>(db, Q.list, [f.afterId, more]);
  return res.rows;
}

/** Applies the patch; with expectedVersion, only if the product is still at that version (412 otherwise). */
export async function updateProduct(db: Queryable, id: string, patch: ProductPatch, expectedVersion: number | null): Promise<Product> {
  if (!isUuid(id)) throw productNotFound();
  let res;
  try {
    res = await run<ProductRow>(db, Q.update, [id, JSON.stringify(patch), expectedVersion]);
  } catch (err) {
    return skuTaken(err);
  }
  if (res.rows[0]) return toProduct(res.rows[0]);
  // No row: either the product is gone or the version moved on; tell which.
  const current = await run<ProductRow>(db, Q.byId, [id]);
  if (!current.rows[0]) throw productNotFound();
  throw new PreconditionFailed(`The product is at version ${current.rows[0].version}, not ${String(expectedVersion)}`);
}

/** Restock (delta > 0) or remove unreserved units (delta < 0). */
export async function adjustStock(db: Queryable, id: string, delta: number): Promise<Product> {
  if (!isUuid(id)) throw productNotFound();
  const res = await run<ProductRow>(db, Q.adjustStock, [id, delta, MAX_STOCK]);
  if (res.rows[0]) return toProduct(res.rows[0]);
  const current = await run<ProductRow>(db, Q.byId, [id]);
  const row = current.rows[0];
  if (!row) throw productNotFound();
  // Given the row exists and is live, the failed condition follows from the sign of delta alone.
  if (delta < 0) {
    throw new Conflict('insufficient-stock', `Only ${row.stock} unreserved unit(s) can be removed; the rest is reserved by orders`, {
      available: row.stock,
    });
  }
  throw new Conflict('stock-limit-exceeded', `Stock may not exceed ${MAX_STOCK} units`, { available: row.stock });
}

/** Archives: hidden from the catalog and from new reservations, kept for the orders that reference it. */
export async function archiveProduct(db: Queryable, id: string): Promise<void> {
  if (!isUuid(id)) throw productNotFound();
  const res = await run(db, Q.archive, [id]);
  if (res.rowCount === 0) throw productNotFound();
}
