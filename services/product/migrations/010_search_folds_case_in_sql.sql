-- Up Migration
-- Rolling update: as 009: search is back in the same transaction, and products is rewritten under ACCESS EXCLUSIVE
-- (the previous release's product statements wait; past 8 s, 503).
-- The search vector and the query (MATCHES in the product repository) are cased by the same SQL, lower() and
-- then the Greek final sigma read as sigma, so a name is always found by itself. Queries were lower-cased in
-- JavaScript, whose toLowerCase is contextual and not PostgreSQL's per-character lower(): "ΚΑΦΕΣ" became "καφες"
-- (final ς) in the query and "καφεσ" in the vector, "İZMİR" became "i̇zmi̇r" (i and a combining dot) and "izmir";
-- neither name was found by itself.
DROP INDEX products_search_idx;
ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, translate(lower(normalize(name, NFKC)), 'ς', 'σ')), 'A') ||
  setweight(to_tsvector('simple'::regconfig, translate(lower(normalize(coalesce(description, ''), NFKC)), 'ς', 'σ')), 'B')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);
