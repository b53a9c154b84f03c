-- Up Migration
-- Rolling update: the status check only admits more values; reserve_stock is dropped and created with the same
-- arguments in one transaction; the index and the check scan reservations under a lock that blocks writes for their
-- length.
-- A refused reservation is recorded too (status 'refused' and why), under the same order-id key as a taken
-- one: once the product service has said no for an order, every later request for that order replays the
-- no, so a late retry can never reserve for an order the order service has already rejected or failed.
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('reserved', 'released', 'refused'));
-- {"reason": "insufficient-stock" | "unknown-product" | "mixed-currency" | "expired", ...details}
ALTER TABLE reservations ADD COLUMN refusal jsonb;
-- The order service's audit walks the held reservations by order id (keyset pages).
CREATE INDEX reservations_reserved_idx ON reservations (order_id) WHERE status = 'reserved';

-- Same rules as 002 (claim the order id first, one conditional UPDATE per product in id order, all or
-- nothing), but a refusal is no longer an exception that rolls the claim back: the stock updates run in a
-- sub-transaction, a short, unknown or mixed-currency line rolls back only that, and the claim row is kept
-- as 'refused' with the reason. The result is either the reserved lines or one 'refused' row with `refusal`.
DROP FUNCTION reserve_stock(uuid, uuid[], integer[], timestamptz);
CREATE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz)
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean, refusal jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  i integer;
  r record;
  first_currency text;
  v_refusal jsonb;
  v_unknown jsonb;
BEGIN
  INSERT INTO reservations (order_id, status) VALUES (p_order_id, 'reserved') ON CONFLICT (order_id) DO NOTHING;
  IF NOT FOUND THEN
    -- A repeat (or a duplicate that waited for the winner): the stored answer, whatever it was.
    RETURN QUERY
      SELECT rv.status, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, NULL::integer, true, rv.refusal
      FROM reservations rv LEFT JOIN reservation_items ri ON ri.order_id = rv.order_id
      WHERE rv.order_id = p_order_id ORDER BY ri.product_id;
    RETURN;
  END IF;
  -- After the claim, so a repeat of a reservation taken in time still replays it.
  IF p_not_after IS NOT NULL AND now() > p_not_after THEN
    v_refusal := jsonb_build_object('reason', 'expired', 'notAfter', p_not_after);
  ELSE
    BEGIN
      FOR i IN 1 .. coalesce(array_length(p_product_ids, 1), 0) LOOP
        UPDATE products p SET stock = p.stock - p_quantities[i], version = p.version + 1, updated_at = now()
          WHERE p.id = p_product_ids[i] AND p.stock >= p_quantities[i] AND NOT p.archived
          RETURNING p.id, p.stock, p.price_cents, p.currency::text AS currency INTO r;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'short line %', p_product_ids[i] USING ERRCODE = 'EC002';
        END IF;
        IF first_currency IS NULL THEN
          first_currency := r.currency;
        ELSIF first_currency <> r.currency THEN
          v_refusal := jsonb_build_object('reason', 'mixed-currency', 'currencies', jsonb_build_array(first_currency, r.currency));
          RAISE EXCEPTION 'mixed currencies % and %', first_currency, r.currency USING ERRCODE = 'EC003';
        END IF;
        INSERT INTO reservation_items (order_id, product_id, quantity, unit_price_cents, currency)
          VALUES (p_order_id, r.id, p_quantities[i], r.price_cents, r.currency);
      END LOOP;
    EXCEPTION
      WHEN SQLSTATE 'EC003' THEN
        NULL; -- v_refusal is set (plpgsql variables survive the sub-transaction's rollback)
      WHEN SQLSTATE 'EC002' THEN
        -- The sub-transaction is rolled back, so this reads the stock as it was before the attempt:
        -- name every unknown line, else every short one.
        SELECT jsonb_agg(u.id ORDER BY u.id) INTO v_unknown
          FROM unnest(p_product_ids) AS u(id) LEFT JOIN products p ON p.id = u.id
          WHERE p.id IS NULL OR p.archived;
        IF v_unknown IS NOT NULL THEN
          v_refusal := jsonb_build_object('reason', 'unknown-product', 'productIds', v_unknown);
        ELSE
          SELECT jsonb_build_object('reason', 'insufficient-stock', 'items',
                   coalesce(jsonb_agg(jsonb_build_object('productId', u.id, 'requested', u.q, 'available', p.stock) ORDER BY u.id)
                            FILTER (WHERE p.stock < u.q), '[]'::jsonb))
            INTO v_refusal
            FROM unnest(p_product_ids, p_quantities) AS u(id, q) JOIN products p ON p.id = u.id;
          -- Stock returned between the rollback and this read: name every line then.
          IF v_refusal->'items' = '[]'::jsonb THEN
            SELECT jsonb_build_object('reason', 'insufficient-stock', 'items',
                     jsonb_agg(jsonb_build_object('productId', u.id, 'requested', u.q, 'available', p.stock) ORDER BY u.id))
              INTO v_refusal
              FROM unnest(p_product_ids, p_quantities) AS u(id, q) JOIN products p ON p.id = u.id;
          END IF;
        END IF;
    END;
  END IF;
  IF v_refusal IS NOT NULL THEN
    UPDATE reservations rv SET status = 'refused', refusal = v_refusal WHERE rv.order_id = p_order_id;
    RETURN QUERY SELECT 'refused'::text, NULL::uuid, NULL::integer, NULL::bigint, NULL::text, NULL::integer, false, v_refusal;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT 'reserved'::text, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, p.stock, false, NULL::jsonb
    FROM reservation_items ri JOIN products p ON p.id = ri.product_id
    WHERE ri.order_id = p_order_id ORDER BY ri.product_id;
END
$$;
