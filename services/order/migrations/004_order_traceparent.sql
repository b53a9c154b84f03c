-- Up Migration
-- Rolling update: the nine-argument place_pending_order is replaced in one transaction by a ten-argument one whose
-- last argument has a default, so the previous release's nine-argument call keeps working.
-- The W3C traceparent of the request that placed the order (null for orders placed before it was stored), so
-- the reconciler's span that settles the order links to the trace that created it. place_pending_order takes
-- it as a tenth argument with a default, so a replica still on the nine-argument call keeps working.
ALTER TABLE orders ADD COLUMN traceparent text;

DROP FUNCTION place_pending_order(uuid, uuid, jsonb, text, text, float8, float8, integer, integer);
CREATE FUNCTION place_pending_order(
  p_id uuid, p_user uuid, p_items jsonb, p_key text, p_hash text,
  p_deadline_ms float8, p_lease_ms float8, p_units integer, p_max_units integer, p_traceparent text DEFAULT NULL)
RETURNS SETOF orders LANGUAGE plpgsql AS $$
DECLARE
  o orders;
  used integer;
BEGIN
  INSERT INTO orders (id, user_id, status, items, idempotency_key, request_hash, deadline_at, lease_until, traceparent)
  VALUES (p_id, p_user, 'pending', p_items, p_key, p_hash,
          now() + make_interval(secs => p_deadline_ms / 1000), now() + make_interval(secs => p_lease_ms / 1000), p_traceparent)
  ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING
  RETURNING * INTO o;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF p_max_units > 0 THEN
    INSERT INTO customer_usage AS u (user_id, hour, units) VALUES (p_user, date_trunc('hour', now()), p_units)
    ON CONFLICT (user_id, hour) DO UPDATE SET units = u.units + EXCLUDED.units
    RETURNING u.units INTO used;
    IF used > p_max_units THEN
      RAISE EXCEPTION 'hourly unit limit % reached', p_max_units USING ERRCODE = 'EO001';
    END IF;
  END IF;
  RETURN NEXT o;
END
$$;
