-- Up Migration
-- p_max_units = 0 turns the hourly limit off: no usage row is written. The per-customer counter row is
-- locked from its update to the commit, so a customer's concurrent orders queue on it; a deployment that
-- limits elsewhere (or a benchmark of 20 customers at 1,000 orders/s) can skip that cost.
CREATE OR REPLACE FUNCTION place_pending_order(
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
