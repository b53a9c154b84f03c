-- Up Migration
-- Rolling update: as 009: search is back in the same transaction, and products is rewritten under ACCESS EXCLUSIVE
-- (the previous release's product statements wait; past 8 s, 503).
-- Words joined by ASCII punctuation are words of their own in the vector, as they are in a query: PostgreSQL's
-- parser read "3.1" (a version), "4K/60Hz" (a file path), "Node.js" (a host) and "help@shop.example" (an email) as
-- one token each, with no token for the words inside, so "60hz", "js" or "shop" began no stored word, though the
-- query takes every run of letters, digits and marks as a word (searchQuery in the product repository) and "3.1" was
-- the words 3 and 1. Each of the 32 ASCII punctuation characters becomes a space before the parser sees the text
-- (with the final sigma read as sigma, as in 010), so the vector holds exactly the query's words. A query never
-- holds punctuation, so no query that found a product before misses it now: a word that began a compound token
-- begins its first part.
DROP INDEX products_search_idx;
ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, translate(lower(normalize(name, NFKC)), 'ς!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', 'σ                                ')), 'A') ||
  setweight(to_tsvector('simple'::regconfig, translate(lower(normalize(coalesce(description, ''), NFKC)), 'ς!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', 'σ                                ')), 'B')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);
