-- Up Migration
-- The search vector is built from the text in Unicode NFKC, as queries are (searchQuery in the product
-- repository): a name stored with an accent decomposed (NFD, as some keyboards and pasted file names give it)
-- or in full-width letters is found by the word as it is read. normalize() is immutable (PostgreSQL 13+, UTF-8).
DROP INDEX products_search_idx;
ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, normalize(name, NFKC)), 'A') ||
  setweight(to_tsvector('simple'::regconfig, normalize(coalesce(description, ''), NFKC)), 'B')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);
