-- Up Migration
-- Rolling update: search is dropped and added back in one transaction (the previous release's queries still find the
-- column), but the stored generated column rewrites products under ACCESS EXCLUSIVE: every statement of the previous
-- release on products (reservations, reads, search) waits for the rewrite and the index build, and past 8 s answers
-- 503.
-- The search vector is built from the text in Unicode NFKC, as queries are (searchQuery in the product
-- repository): a name stored with an accent decomposed (NFD, as some keyboards and pasted file names give it)
-- or in full-width letters is found by the word as it is read. normalize() is immutable (PostgreSQL 13+, UTF-8).
-- Lower-cased by lower(), which follows the database's collation, before to_tsvector, which cases by LC_CTYPE
-- alone: under the C ctype of the embedded PostgreSQL (npm start) it left "Über" and "Москва" capitalized, and
-- queries are lower-cased, so no query found them.
DROP INDEX products_search_idx;
ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, lower(normalize(name, NFKC))), 'A') ||
  setweight(to_tsvector('simple'::regconfig, lower(normalize(coalesce(description, ''), NFKC))), 'B')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);
