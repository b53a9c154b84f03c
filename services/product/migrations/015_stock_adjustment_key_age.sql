-- Up Migration
-- Rolling update: the build holds a SHARE lock on stock_adjustments, so keyed restocks of the previous release wait
-- while it reads the table (a row per keyed restock of the last STOCK_KEY_RETENTION_HOURS); reads, orders and
-- restocks without a key do not touch it. Not CONCURRENTLY: migrations run in a transaction.
-- The prune of stock adjustment keys past STOCK_KEY_RETENTION_HOURS (background/stock-key-prune.ts) finds them by
-- age, a batch at a time: without this index each batch read the whole table (up to a year of keys).
CREATE INDEX stock_adjustments_created_idx ON stock_adjustments (created_at);
