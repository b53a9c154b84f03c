import { createHash } from 'node:crypto';
import { PgCode, errorCode, type Database, type Queryable } from '@ecommerce/kit';
import { MAX_SEARCH_WORDS, skuTaken, tooManySearchWords, type NewProduct } from '../model/product.js';
import { UNCONDITIONAL, versionBounds, type VersionCondition } from '../model/version-condition.js';

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
  /** ISO 8601 in UTC with milliseconds, formatted by PostgreSQL (see PRODUCT). */
  created_at: string;
  updated_at: string;
  [k: string]: unknown;
}

/** The columns of a new product: its id, and every field with the defaults applied. */
export type ProductInsert = { id: string } & Required<NewProduct>;

export interface ListFilter {
  limit: number;
  afterId: string | null;
  q?: string;
  category?: string;
}

/**
 * Timestamps leave PostgreSQL as the API's ISO text (what `Date#toISOString` writes): parsing 40 dates of a list
 * page into Date objects only to format them again was a twentieth of the product service's CPU per page.
 */
const isoTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
const PRODUCT = `id, sku, name, description, price_cents, currency, stock, category, image_url, version, ${isoTime('created_at')}, ${isoTime('updated_at')}`;

/**
 * The four list shapes are separate statements rather than one with `$x IS NULL OR ...`, so each gets a plan
 * that uses its index (a generic plan for the catch-all form cannot).
 */
function listQuery(filter: string, limitParam: number): string {
  return `SELECT ${PRODUCT} FROM products
      WHERE NOT archived AND ($1::uuid IS NULL OR id > $1::uuid)${filter}
      ORDER BY id LIMIT $${limitParam}`;
}

// $2 is a tsquery built from words only (searchQuery below), a plain parameter: with it known, the planner
// estimates from the column statistics and takes the GIN index for selective words, the id index for common ones.
// Cased here by the very SQL that cases the stored vector (migration 010), never by JavaScript's contextual
// toLowerCase, so a name in capitals ("ΚΑΦΕΣ", "İZMİR") is found by itself.
const casedAsSearched = (text: string) => `translate(lower(${text}), 'ς', 'σ')`;
const MATCHES = `search @@ to_tsquery('simple', ${casedAsSearched('$2::text')})`;
const LIST = listQuery('', 2);
// A category compared in Unicode NFKC (migration 013, whose index is on that expression): composed or decomposed,
// full-width or not, it is one category.
const inCategory = (param: string) => ` AND normalize(category, NFKC) = normalize(${param}::text, NFKC)`;
const LIST_BY_CATEGORY = listQuery(inCategory('$2'), 3);
const SEARCH = listQuery(` AND ${MATCHES}`, 3);
const SEARCH_BY_CATEGORY = listQuery(` AND ${MATCHES}${inCategory('$3')}`, 4);

// The live catalog's categories in order, one row each as the filter compares them (NFKC, migration 013): a walk of
// products_category_idx, which is on that expression, jumping from one category to the next (each step one index
// probe), rather than a DISTINCT over every product. Each is given in its NFKC form, which the filter takes for every
// spelling. $1 is the last category of the page before (NULL for the first); the outer LIMIT stops the walk.
const CATEGORIES = `WITH RECURSIVE c(category) AS (
        (SELECT normalize(category, NFKC) FROM products
          WHERE NOT archived AND normalize(category, NFKC) > coalesce(normalize($1::text, NFKC), '')
          ORDER BY normalize(category, NFKC) LIMIT 1)
        UNION ALL
        SELECT (SELECT normalize(p.category, NFKC) FROM products p
                WHERE NOT p.archived AND normalize(p.category, NFKC) > c.category ORDER BY normalize(p.category, NFKC) LIMIT 1)
          FROM c WHERE c.category IS NOT NULL
      )
      SELECT category FROM c WHERE category IS NOT NULL LIMIT $2`;

// A batch of the stock adjustment keys past their retention (background/stock-key-prune.ts).
const PRUNE_ADJUSTMENT_KEYS = `DELETE FROM stock_adjustments WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM stock_adjustments WHERE created_at < now() - make_interval(hours => $1)
  ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;

// Available units may not go below zero: only unreserved units can be removed. Used alone and under a key.
// A restock keeps stock + held <= $3 (held: the units reservations hold, kept by migration 017's triggers), so no
// release can take stock past the integer column's bound; a removal only lowers the sum, so it is never refused for it
// (a product over the bound from before 017 can come back under). In bigint: stock + held of such a product may pass 2^31.
const ADJUST_STOCK = `UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now()
      WHERE id = $1 AND NOT archived AND stock::bigint + $2 >= 0 AND ($2 < 0 OR stock::bigint + held + $2 <= $3)
        AND ($4::integer[] IS NULL OR version = ANY($4::integer[]))
        AND ($5::integer[] IS NULL OR version <> ALL($5::integer[]))
      RETURNING ${PRODUCT}`;

/**
 * How long a write of a product row waits for its lock: a reservation (lock_timeout of reserve_stock, migrations/016),
 * a release and an admin write alike. Past it 55P03: 503 + Retry-After, nothing written, the same request sent again
 * may succeed. The admin writes (PATCH, stock, DELETE) waited out the 8 s statement timeout behind a row another
 * session held (a stuck transaction, a hand-run fix), each holding a pool connection, then answered the same 503.
 */
const ROW_LOCK_TIMEOUT = '2s';

/**
 * fn in a transaction of `db` whose statements wait at most ROW_LOCK_TIMEOUT for a lock (admin writes, a release), on
 * the share of the pool lock waits may hold (Database.lockWaiting): however many wait behind one locked row, reads of
 * the catalog keep connections of their own.
 */
export function rowLockBounded<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.lockWaiting(() =>
    db.tx(async (tx) => {
      await tx.query('row_lock_timeout', `SET LOCAL lock_timeout = '${ROW_LOCK_TIMEOUT}'`);
      return fn(tx);
    }),
  );
}

// Several replicas may start at once: the transaction-scoped advisory lock lets one seed and the others see a non-empty table.
const SEED_LOCK = createHash('sha256').update('seed:catalog').digest().readInt32BE(0);

/**
 * Past this many bytes a word of the query may be one PostgreSQL's text search leaves out once MATCHES has cased it.
 * It keeps a word of up to 2,046 or 2,047 bytes, by build: `lenlemm >= MAXSTRLEN` (2,047) in its ts_parse.c drops a
 * word of 2,047 bytes on PostgreSQL 17.6 (the embedded test server), while 15.20 keeps it and drops 2,048. Casing
 * takes at most twice the bytes of a letter (I to ı in a Turkish locale; Ⱥ 2 to ⱥ 3), so a word under this many bytes
 * is kept everywhere; a longer one is asked of the database, whichever way casing moves its length (İ 2, i 1).
 */
const MEASURED_AS_CASED_BYTES = Math.floor(2046 / 2);

// Whether the database leaves a word out of the query: the word as MATCHES cases it, alone in a tsquery as MATCHES builds
// it, gives no lexeme (its parser reads only blanks in it), or a token its parser reads of it does. The server's own
// rule, not a length or a character class copied from one of its builds or locales.
// Words hold letters, marks and digits only (searchWords), so quoting a word or a token cannot make tsquery syntax.
const DROPS_A_WORD = `SELECT EXISTS (
        SELECT 1 FROM unnest($1::text[]) AS w
        WHERE numnode(to_tsquery('simple', '''' || ${casedAsSearched('w')} || '''')) = 0
           OR EXISTS (
             SELECT 1 FROM ts_parse('default', ${casedAsSearched('w')}) AS t
             WHERE t.tokid <> (SELECT tokid FROM ts_token_type('default') WHERE alias = 'blank')
               AND numnode(to_tsquery('simple', '''' || t.token || '''')) = 0)
      ) AS drops`;

/** ASCII letters and digits: a word of them, under the length above, is a word to the parser whatever the locale. */
const ASCII_WORD = /^[A-Za-z0-9]*$/;

/** A character outside ASCII: text without one is its own NFKC in every Unicode version. */
const NON_ASCII = /\P{ASCII}/u;

// The query in NFKC as the database normalizes the stored text (search_text, migration 014), not as Node.js does:
// their Unicode versions differ (Node.js 20: 17; PostgreSQL 15: 14, 17: 15.1), and a character only the newer one
// decomposes (U+1CCD6, an outlined A since Unicode 16) was a letter joining two words in the query and a space
// between them in the stored vector.
const NFKC_AS_STORED = `SELECT normalize($1::text, NFKC) AS q`;

/**
 * The words of free text already in the database's NFKC (NFKC_AS_STORED), as the stored vector is (migration 009),
 * so a word typed decomposed or in full-width letters is the same word: letters, digits and the marks that belong to
 * letters only, so nothing the user types can be tsquery syntax; marks stay inside words as PostgreSQL's parser keeps
 * them (without them "हिन्दी" was three words, none of which any name held). Not lower-cased here: MATCHES cases the
 * query as the stored vector is cased.
 */
function searchWords(normalized: string): string[] {
  // Each word once (a repeat adds nothing to the AND); more than MAX_SEARCH_WORDS are refused, not cut: the 17th word
  // used to be dropped unread, so products without it were listed.
  const words = [...new Set(normalized.match(/[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu) ?? [])];
  if (words.length > MAX_SEARCH_WORDS) throw tooManySearchWords();
  return words;
}

/** The words as a tsquery: every word must match as a prefix ("lap" finds "Laptop"). */
function searchQuery(words: string[]): string {
  // A one-character prefix stands for every word of the catalog with that initial: next to another word, the GIN
  // index merges all their entries (a b: 190 ms over 50,000 products, 47 times a catalog page), so there such a word
  // is matched whole. Alone it stays a prefix (the first key typed), and the planner walks the id index instead.
  const prefix = (w: string) => words.length === 1 || [...w].length > 1;
  return words.map((w) => (prefix(w) ? `'${w}':*` : `'${w}'`)).join(' & ');
}

function rethrowSkuTaken(err: unknown): never {
  if (errorCode(err) === PgCode.uniqueViolation) throw skuTaken();
  throw err;
}

/** The catalog's products table. Rows come back as stored; the model maps them (toProduct). */
export class ProductRepository {
  constructor(private readonly db: Database) {}

  async insert(p: ProductInsert): Promise<ProductRow> {
    const values = [p.id, p.sku, p.name, p.description, p.priceCents, p.currency, p.stock, p.category, p.imageUrl];
    const res = await this.db
      .query<ProductRow>(
        'product_insert',
        `INSERT INTO products (id, sku, name, description, price_cents, currency, stock, category, image_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PRODUCT}`,
        values,
      )
      .catch(rethrowSkuTaken);
    return res.rows[0]!;
  }

  /**
   * A live (not archived) product, with the units its reservations hold (`held`, migration 017): what a refused
   * restock is explained by. toProduct leaves `held` out of the API's product.
   */
  async findById(id: string): Promise<(ProductRow & { held: number }) | undefined> {
    return (await this.db.query<ProductRow & { held: number }>('product_by_id', `SELECT ${PRODUCT}, held FROM products WHERE id = $1 AND NOT archived`, [id])).rows[0];
  }

  /** Keyset page over live products in id (creation) order; returns limit+1 rows for pageOf. */
  async list(f: ListFilter): Promise<ProductRow[]> {
    const more = f.limit + 1;
    const words = f.q === undefined ? undefined : searchWords(await this.nfkcAsStored(f.q));
    if (words !== undefined && (words.length === 0 || (await this.dropsAWord(words)))) return [];
    const tsquery = words === undefined ? undefined : searchQuery(words);
    let res;
    if (tsquery !== undefined && f.category !== undefined) res = await this.db.query<ProductRow>('product_list_search_category', SEARCH_BY_CATEGORY, [f.afterId, tsquery, f.category, more]);
    else if (tsquery !== undefined) res = await this.db.query<ProductRow>('product_list_search', SEARCH, [f.afterId, tsquery, more]);
    else if (f.category !== undefined) res = await this.db.query<ProductRow>('product_list_category', LIST_BY_CATEGORY, [f.afterId, f.category, more]);
    else res = await this.db.query<ProductRow>('product_list', LIST, [f.afterId, more]);
    return res.rows;
  }

  /** Up to `limit` categories of the live catalog after `after` (all from the first without it), in the database's order. */
  async categories(after: string | null, limit: number): Promise<string[]> {
    const res = await this.db.query<{ category: string }>('product_categories', CATEGORIES, [after, limit]);
    return res.rows.map((r) => r.category);
  }

  /** q in NFKC as the database normalizes (NFKC_AS_STORED); ASCII without asking it. */
  private async nfkcAsStored(q: string): Promise<string> {
    if (!NON_ASCII.test(q)) return q;
    return (await this.db.query<{ q: string }>('product_search_nfkc', NFKC_AS_STORED, [q])).rows[0]!.q;
  }

  /**
   * Whether PostgreSQL would leave a word of the query out of the tsquery (too long once cased: it does so with a
   * notice), so that the other words alone chose the products. No stored vector holds such a word either, so the query
   * matches nothing (200 characters of q reach it through NFKC: U+3300 is twelve bytes of katakana). A word of 2,045
   * bytes as sent is 2,047 as cased (ȺaȺ to ⱥaⱥ): kept by one build, left out by another; the server says which.
   * Nor does a glibc locale (C.UTF-8, en_US.UTF-8) read thousands of characters Unicode calls letters or numbers
   * (৴ U+09F4, ௰ U+0BF0, ↂ U+2182): a word of those alone was left out, and `lamp ৴` listed every lamp. So any word
   * outside ASCII is asked of the server too (LC_CTYPE C reads every non-ASCII character as a letter).
   */
  private async dropsAWord(words: string[]): Promise<boolean> {
    if (words.every((w) => ASCII_WORD.test(w) && Buffer.byteLength(w) <= MEASURED_AS_CASED_BYTES)) return false;
    const res = await this.db.query<{ drops: boolean }>('product_search_drops_word', DROPS_A_WORD, [words]);
    return res.rows[0]?.drops === true;
  }

  /** The patched row, or undefined when the product is gone or its version is not one the condition allows. */
  async update(id: string, patch: object, condition: VersionCondition = UNCONDITIONAL): Promise<ProductRow | undefined> {
    const { expected, excluded } = versionBounds(condition);
    // One statement for every PATCH shape: a key present in the JSON patch replaces the column, absent keeps it.
    const res = await rowLockBounded(this.db, (tx) =>
      tx.query<ProductRow>(
        'product_update',
        `UPDATE products SET
           sku = CASE WHEN $2::jsonb ? 'sku' THEN $2::jsonb->>'sku' ELSE sku END,
           name = CASE WHEN $2::jsonb ? 'name' THEN $2::jsonb->>'name' ELSE name END,
           description = CASE WHEN $2::jsonb ? 'description' THEN $2::jsonb->>'description' ELSE description END,
           price_cents = CASE WHEN $2::jsonb ? 'priceCents' THEN ($2::jsonb->>'priceCents')::bigint ELSE price_cents END,
           currency = CASE WHEN $2::jsonb ? 'currency' THEN $2::jsonb->>'currency' ELSE currency END,
           category = CASE WHEN $2::jsonb ? 'category' THEN $2::jsonb->>'category' ELSE category END,
           image_url = CASE WHEN $2::jsonb ? 'imageUrl' THEN $2::jsonb->>'imageUrl' ELSE image_url END,
           version = version + 1,
           updated_at = now()
         WHERE id = $1 AND NOT archived AND ($3::integer[] IS NULL OR version = ANY($3::integer[]))
           AND ($4::integer[] IS NULL OR version <> ALL($4::integer[]))
         RETURNING ${PRODUCT}`,
        [id, JSON.stringify(patch), expected, excluded],
      ),
    ).catch(rethrowSkuTaken);
    return res.rows[0];
  }

  /**
   * The adjusted row, or undefined when the product is gone, stock + delta goes below 0, a restock takes stock + held
   * past maxStock, or its version is
   * not one the condition (If-Match, If-None-Match) allows.
   */
  async adjustStock(id: string, delta: number, maxStock: number, condition: VersionCondition = UNCONDITIONAL): Promise<ProductRow | undefined> {
    const { expected, excluded } = versionBounds(condition);
    return (await rowLockBounded(this.db, (tx) => tx.query<ProductRow>('product_adjust_stock', ADJUST_STOCK, [id, delta, maxStock, expected, excluded]))).rows[0];
  }

  /**
   * An adjustment under an idempotency key, key and stock in one transaction: 'applied' with the row, or
   * 'replayed' with the delta stored under the key (used before: nothing changes). Undefined when the adjustment
   * is refused (gone, stock + delta below 0, or a restock past maxStock with the held units): the transaction rolls back, so no key is kept and
   * a later try with it is a new attempt. A concurrent copy waits on the key's row and then replays.
   */
  async adjustStockOnce(
    id: string,
    delta: number,
    maxStock: number,
    key: string,
    condition: VersionCondition = UNCONDITIONAL,
  ): Promise<{ kind: 'applied'; row: ProductRow } | { kind: 'replayed'; delta: number } | undefined> {
    const { expected, excluded } = versionBounds(condition);
    const refused = Symbol('refused');
    // The claim saw the key taken, then the prune deleted it before the read (each statement has its own snapshot):
    // the key has expired meanwhile, so the adjustment is a new attempt and claims again. Bounded, not a loop forever.
    try {
      for (let attempt = 1; ; attempt++) {
        const outcome = await rowLockBounded(this.db, async (tx) => {
          const claimed = await tx.query(
            'product_claim_adjustment',
            'INSERT INTO stock_adjustments (product_id, idempotency_key, delta) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
            [id, key, delta],
          );
          if (claimed.rowCount === 0) {
            const stored = (
              await tx.query<{ delta: number }>('product_stored_adjustment', 'SELECT delta FROM stock_adjustments WHERE product_id = $1 AND idempotency_key = $2', [id, key])
            ).rows[0];
            return stored && { kind: 'replayed' as const, delta: stored.delta };
          }
          const row = (await tx.query<ProductRow>('product_adjust_stock', ADJUST_STOCK, [id, delta, maxStock, expected, excluded])).rows[0];
          if (!row) throw refused;
          return { kind: 'applied' as const, row };
        });
        if (outcome) return outcome;
        if (attempt === 3) throw new Error(`the idempotency key of a stock adjustment was taken and gone ${attempt} times in a row`);
      }
    } catch (err) {
      if (err === refused) return undefined;
      throw err;
    }
  }

  /**
   * Deletes up to `limit` adjustment keys older than the retention, oldest first; answers how many. By the created_at
   * index and then by row address (keys are never updated, and the rows are locked from their pick to their delete);
   * SKIP LOCKED: rows another replica's prune holds are left to it.
   */
  async pruneAdjustmentKeys(retentionHours: number, limit: number): Promise<number> {
    return (await this.db.query('product_prune_adjustment_keys', PRUNE_ADJUSTMENT_KEYS, [retentionHours, limit])).rowCount ?? 0;
  }

  /** False when there was no live product to archive. */
  /** Archives the product, only at a version the condition allows; false when it is gone or at another. */
  async archive(id: string, condition: VersionCondition = UNCONDITIONAL): Promise<boolean> {
    const { expected, excluded } = versionBounds(condition);
    const res = await rowLockBounded(this.db, (tx) =>
      tx.query(
        'product_archive',
        `UPDATE products SET archived = true, version = version + 1, updated_at = now()
         WHERE id = $1 AND NOT archived AND ($2::integer[] IS NULL OR version = ANY($2::integer[]))
           AND ($3::integer[] IS NULL OR version <> ALL($3::integer[])) RETURNING id`,
        [id, expected, excluded],
      ),
    );
    return res.rowCount !== 0;
  }

  /** Inserts the products only when the table is empty (under a lock, so one replica seeds); returns how many. */
  async insertAllIfEmpty(products: ProductInsert[]): Promise<number> {
    return this.db.tx(async (tx) => {
      await tx.query('product_seed_lock', 'SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
      const count = await tx.query<{ n: number }>('product_count_all', 'SELECT count(*)::integer AS n FROM products');
      if (count.rows[0]!.n > 0) return 0;
      const column = <K extends keyof ProductInsert>(key: K) => products.map((p) => p[key]);
      const res = await tx.query(
        'product_seed_insert',
        `INSERT INTO products (id, sku, name, description, price_cents, currency, stock, category, image_url)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::integer[], $8::text[], $9::text[])
         ON CONFLICT (sku) DO NOTHING`,
        [column('id'), column('sku'), column('name'), column('description'), column('priceCents'), column('currency'), column('stock'), column('category'), column('imageUrl')],
      );
      return res.rowCount ?? 0;
    });
  }
}
