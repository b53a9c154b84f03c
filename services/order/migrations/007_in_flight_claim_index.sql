-- Up Migration
-- Rolling update: the build holds a SHARE lock on orders, so placements, transitions and cancels of the previous
-- release wait while it reads the table once (a moment per million orders: only orders in flight are indexed); reads
-- of orders go on, and the previous release's reconciler claims with this index from then on. Not CONCURRENTLY:
-- migrations run in a transaction.
-- The reconciler's claim (order_claim_overdue: status IN ('pending', 'cancelling'), oldest lease first) matched
-- neither partial index (each holds one status), so every pass, every 2 s in every replica, read the whole table: a
-- sequential scan of 2,000,000 orders took 700 ms to find 50. This index holds only the orders in flight, in the
-- claim's order: the orders it may claim (lease NULL, then run out) are the head of the index, read and no more.
CREATE INDEX orders_in_flight_idx ON orders (lease_until NULLS FIRST, updated_at) WHERE status IN ('pending', 'cancelling');
