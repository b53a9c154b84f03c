-- Up Migration
-- Rolling update: the previous release's category filter (category = $1) loses its index until it is replaced (a
-- sequential scan, still correct); the new index blocks writes to products while it builds.
-- A category is one text, not one sequence of code points: "Café" with the é composed (NFC) or decomposed (NFD, as
-- some keyboards and pasted text give it), in full-width letters or with a ligature (ﬁ) was two categories that look
-- alike, each listing only its own products (and the storefront showed both in its list). The filter compares in
-- NFKC, as SKUs (011) and search words (009) are; each category is still stored as sent, and letter case still
-- tells categories apart. The index follows the comparison, so a category page keeps its index scan.
DROP INDEX products_category_idx;
CREATE INDEX products_category_idx ON products (normalize(category, NFKC), id) WHERE NOT archived;
