-- Up Migration
-- Rolling update: the status check is dropped and added back in one transaction and only admits more values (the
-- previous release writes none of the new ones); it and the index scan orders under a lock that blocks writes for
-- their length (small table at the time).
-- A cancel is recorded before the stock is released ('cancelling'), so a crash between the release and the
-- final write leaves an intent the reconciler finishes, never a confirmed order whose units are on sale.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('pending', 'confirmed', 'rejected', 'failed', 'cancelling', 'cancelled'));
CREATE INDEX orders_cancelling_idx ON orders (updated_at) WHERE status = 'cancelling';

-- Units each customer ordered per clock hour (MAX_UNITS_PER_CUSTOMER_PER_HOUR). Counted in the same
-- statement that writes the pending order, so a replay never counts twice and a refused order is not written.
CREATE TABLE customer_usage (
  user_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  units integer NOT NULL,
  PRIMARY KEY (user_id, hour)
);

-- Writes a pending order that the caller drives (lease_until: its lease), or returns no row when
-- (user, Idempotency-Key) already exists. Raises EO001 (nothing written) when the order would take the
-- customer over p_max_units in this clock hour.
CREATE FUNCTION place_pending_order(
  p_id uuid, p_user uuid, p_items jsonb, p_key text, p_hash text,
  p_deadline_ms float8, p_lease_ms float8, p_units integer, p_max_units integer)
RETURNS SETOF orders LANGUAGE plpgsql AS $$
DECLARE
  o orders;
  used integer;
BEGIN
  INSERT INTO orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at, lease_until)
  VALUES (p_id, p_user, 'pending', p_items, p_key, p_hash,
          now() + make_interval(secs => p_deadline_ms / 1000), now() + make_interval(secs => p_lease_ms / 1000))
  ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
  RETURNING * INTO o;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO customer_usage AS u (user_id, hour, units) VALUES (p_user, date_trunc('hour', now()), p_units)
  ON CONFLICT (user_id, hour) DO UPDATE SET units = u.units + EXCLUDED.units
  RETURNING u.units INTO used;
  IF used > p_max_units THEN
    RAISE EXCEPTION 'hourly unit limit % reached', p_max_units USING ERRCODE = 'EO001';
  END IF;
  RETURN NEXT o;
END
$$;
