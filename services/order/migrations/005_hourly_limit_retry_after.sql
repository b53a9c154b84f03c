-- Up Migration
-- A refusal by the hourly limit (EO001) says, in its DETAIL, the seconds until the customer's counted hour ends, by
-- the database's clock and in the hours it counts in: date_trunc('hour') is taken in the session's time zone, so on
-- a server set to local time half an hour off UTC (Asia/Kolkata) the hours begin at :30 UTC, and the service's
-- Retry-After, worked out from its own clock in UTC hours, sent retries back while the hour still counted. Same
-- arguments and rows as 004; a replica of the previous release ignores the DETAIL.
CREATE OR REPLACE FUNCTION place_pending_order(
  p_id uuid, p_user uuid, p_items jsonb, p_key text, p_hash text,
  p_deadline_ms float8, p_lease_ms float8, p_units integer, p_max_units integer, p_traceparent text DEFAULT NULL)
RETURNS SETOF orders LANGUAGE plpgsql AS $$
DECLARE
  o orders;
  used integer;
  v_hour timestamptz := date_trunc('hour', now());
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
    INSERT INTO customer_usage AS u (user_id, hour, units) VALUES (p_user, v_hour, p_units)
    ON CONFLICT (user_id, hour) DO UPDATE SET units = u.units + EXCLUDED.units
    RETURNING u.units INTO used;
    IF used > p_max_units THEN
      RAISE EXCEPTION 'hourly unit limit % reached', p_max_units USING ERRCODE = 'EO001',
        DETAIL = ceil(EXTRACT(EPOCH FROM v_hour + interval '1 hour' - now()))::text;
    END IF;
  END IF;
  RETURN NEXT o;
END
$$;
