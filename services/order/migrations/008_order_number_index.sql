-- Up Migration
-- Rolling update: the build holds a SHARE lock on orders, so placements, transitions and cancels of the previous
-- release wait while it reads the table once; reads go on, and the previous release never reads the index. Not
-- CONCURRENTLY: migrations run in a transaction. IF NOT EXISTS: a shop whose orders take longer than its requests
-- may wait builds it by hand with CREATE INDEX CONCURRENTLY first (docs/deploy.md), as for migration 007.
-- The order number a customer is shown is the last 8 hex digits of the order's id (its random bits in a UUIDv7): an
-- admin's GET /order?number= finds the orders that end in it (one, bar a rare collision) by this index, newest
-- first, instead of reading every order ever placed. uuid's text form is lower-case and fixed-width, and right() and
-- the uuid-to-text cast are immutable, so the expression can be indexed.
CREATE INDEX IF NOT EXISTS orders_number_idx ON orders (right(id::text, 8), id DESC);
