-- Up Migration
-- A SKU is unique as text, not as code points: "CAFÉ-1" with the É composed (NFC) or decomposed (NFD, as some
-- keyboards and pasted text give it), in full-width letters, or with a ligature (ﬁ) is the same SKU to whoever reads,
-- scans or types it, and each was a second product under it. Compared in NFKC, as search compares words (009);
-- letter case still tells SKUs apart. normalize() is immutable (PostgreSQL 13+, UTF-8). products_sku_key stays: the
-- seed's ON CONFLICT (sku) names it. A catalog that already holds two such SKUs stops this migration with the
-- duplicate key in the error: rename one (PATCH) and start again.
CREATE UNIQUE INDEX products_sku_nfkc_key ON products (normalize(sku, NFKC));
