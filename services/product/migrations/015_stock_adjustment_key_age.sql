-- Up Migration
-- The prune of stock adjustment keys past STOCK_KEY_RETENTION_HOURS (background/stock-key-prune.ts) finds them by
-- age, a batch at a time: without this index each batch read the whole table (up to a year of keys).
CREATE INDEX stock_adjustments_created_idx ON stock_adjustments (created_at);
