import type { Queryable, Row } from '@ecommerce/kit';
import type pg from 'pg';

/** A statement and its name; the name is the metric label and the prepared-statement name, so one name = one text. */
export interface NamedQuery {
  name: string;
  text: string;
}

export function run<R extends Row>(db: Queryable, q: NamedQuery, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  return db.query<R>(q.name, q.text, values);
}

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  price_cents: number;
  currency: string;
  stock: number;
  category: string | null;
  image_url: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  [k: string]: unknown;
}

const PRODUCT = 'id, sku, name, description, price_cents, currency, stock, category, image_url, version, created_at, updated_at';

/**
 * The four list shapes are separate statements rather than one with `$x IS NULL OR ...`, so each gets a plan
 * that uses its index (a generic plan for the catch-all form cannot).
 */
function listQuery(name: string, filter: string, limitParam: number): NamedQuery {
  return {
    name,
    text: `SELECT ${PRODUCT} FROM products
      WHERE NOT archived AND ($1::uuid IS NULL OR id > $1::uuid)${filter}
      ORDER BY id LIMIT $${limitParam}`,
  };
}

// $2 is a tsquery built from words only (catalog.ts searchQuery), a plain parameter: with it known, the planner
// estimates from the column statistics and takes the GIN index for selective words, the id index for common ones.
const MATCHES = `search @@ to_tsquery('simple', $2::text)`;

export const productQueries = {
  insert: {
    name: 'product_insert',
    text: `INSERT INTO products (id, sku, name, description, price_cents, currency, stock, category, image_url)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PRODUCT}`,
  },
  byId: { name: 'product_by_id', text: `SELECT ${PRODUCT} FROM products WHERE id = $1 AND NOT archived` },
  list: listQuery('product_list', '', 2),
  listByCategory: listQuery('product_list_category', ' AND category = $2', 3),
  search: listQuery('product_list_search', ` AND ${MATCHES}`, 3),
  searchByCategory: listQuery('product_list_search_category', ` AND ${MATCHES} AND category = $3`, 4),
  // One statement for every PATCH shape: a key present in the JSON patch replaces the column, absent keeps it.
  update: {
    name: 'product_update',
    text: `UPDATE products SET
        sku = CASE WHEN $2::jsonb ? 'sku' THEN $2::jsonb->>'sku' ELSE sku END,
        name = CASE WHEN $2::jsonb ? 'name' THEN $2::jsonb->>'name' ELSE name END,
        description = CASE WHEN $2::jsonb ? 'description' THEN $2::jsonb->>'description' ELSE description END,
        price_cents = CASE WHEN $2::jsonb ? 'priceCents' THEN ($2::jsonb->>'priceCents')::bigint ELSE price_cents END,
        currency = CASE WHEN $2::jsonb ? 'currency' THEN $2::jsonb->>'currency' ELSE currency END,
        category = CASE WHEN $2::jsonb ? 'category' THEN $2::jsonb->>'category' ELSE category END,
        image_url = CASE WHEN $2::jsonb ? 'imageUrl' THEN $2::jsonb->>'imageUrl' ELSE image_url END,
        version = version + 1,
        updated_at = now()
      WHERE id = $1 AND NOT archived AND ($3::integer IS NULL OR version = $3::integer)
      RETURNING ${PRODUCT}`,
  },
  // Available units may not go below zero: only unreserved units can be removed.
  adjustStock: {
    name: 'product_adjust_stock',
    text: `UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now()
      WHERE id = $1 AND NOT archived AND stock + $2 BETWEEN 0 AND $3
      RETURNING ${PRODUCT}`,
  },
  archive: {
    name: 'product_archive',
    text: `UPDATE products SET archived = true, version = version + 1, updated_at = now() WHERE id = $1 AND NOT archived RETURNING id`,
  },
  count: { name: 'product_count_all', text: 'SELECT count(*)::integer AS n FROM products' },
  seedLock: { name: 'product_seed_lock', text: 'SELECT pg_advisory_xact_lock($1)' },
  seedInsert: {
    name: 'product_seed_insert',
    text: `INSERT INTO products (id, sku, name, description, price_cents, currency, stock, category, image_url)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::integer[], $8::text[], $9::text[])
      ON CONFLICT (sku) DO NOTHING`,
  },
} satisfies Record<string, NamedQuery>;

export const reservationQueries = {
  // The whole reservation in one round trip: migrations/005_reserve_without_subtransaction.sql.
  reserve: {
    name: 'reservation_reserve',
    text: 'SELECT status, product_id, quantity, unit_price_cents, currency, stock_left, replayed, refusal FROM reserve_stock($1, $2::uuid[], $3::integer[], $4::timestamptz)',
  },
  // After a refused call (rolled back): store the refusal, unless a concurrent request decided first.
  refuse: {
    name: 'reservation_refuse',
    text: `INSERT INTO reservations (order_id, status, refusal) VALUES ($1, 'refused', $2::jsonb) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
  },
  availability: {
    name: 'reservation_availability',
    text: 'SELECT id, stock, archived FROM products WHERE id = ANY($1::uuid[])',
  },
  // A refused reservation has no lines: LEFT JOIN, so it is still found.
  get: {
    name: 'reservation_get',
    text: `SELECT r.order_id, r.status, r.refusal, i.product_id, i.quantity, i.unit_price_cents, i.currency
      FROM reservations r LEFT JOIN reservation_items i USING (order_id)
      WHERE r.order_id = $1 ORDER BY i.product_id`,
  },
  // Keyset page by order id over one status (the order service's audit walks the held ones).
  list: {
    name: 'reservation_list',
    text: `SELECT order_id, status FROM reservations
      WHERE status = $1 AND ($2::uuid IS NULL OR order_id > $2::uuid)
      ORDER BY order_id LIMIT $3`,
  },
  markReleased: {
    name: 'reservation_mark_released',
    text: `UPDATE reservations SET status = 'released', released_at = now() WHERE order_id = $1 AND status = 'reserved' RETURNING order_id`,
  },
  returnStock: {
    name: 'reservation_return_stock',
    text: 'UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now() WHERE id = $1',
  },
} satisfies Record<string, NamedQuery>;
