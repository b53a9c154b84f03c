-- Up Migration
-- Rolling update: reservation_items gains a nullable column (no default: no rewrite, a catalog change under a brief
-- ACCESS EXCLUSIVE lock, which waits for the reservations in flight and makes new ones wait at most the runner's
-- lock_timeout), and reserve_stock answers one more column, `name`, so both overloads are dropped and made again (a
-- function's result columns cannot be changed in place) in this migration's one transaction: a reservation of either
-- release calls the old definition until it commits and the new one after. The previous release selects the columns
-- it reads by name (`r.status, ... r.refusal` and the product's name from a join), so the extra column changes nothing
-- it reads; its prepared statement is analyzed again against the new function by name. A call whose body was read
-- before the commit stores its lines without a name: those, and the lines of reservations taken before this
-- migration, are named by the product's name now, as before.
-- Each reservation line keeps the product's name of the row version whose price it charges: the name the row held
-- when the reservation's UPDATE took it (reservation_items.name), answered on the first reservation and on every
-- replay and read of it. Before, a line was named by the products table read elsewhere: on the first reservation
-- by the calling statement's join, which saw the table as of the statement's start, so a PATCH of name and price
-- committed while the reservation waited on the product's row lock gave the order line the new price with the old
-- name; on a replay (the order service's retry after a lost answer, or its reconciler) by the name at that moment,
-- so a rename and reprice after the reservation gave the old price with the new name ("Coffee 1 kg" at the 250 g
-- price; services/order/test/admin-interleavings.test.ts).
ALTER TABLE reservation_items ADD COLUMN name text;

DROP FUNCTION reserve_stock(uuid, uuid[], integer[], timestamptz);
DROP FUNCTION reserve_stock(uuid, uuid[], integer[], timestamptz, bigint[], text[]);

CREATE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz,
                                         p_expected_prices bigint[], p_expected_currencies text[])
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean, refusal jsonb, name text)
LANGUAGE plpgsql SET lock_timeout = '2s' AS $$
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
    RETURN QUERY
      SELECT rv.status, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, NULL::integer, true, rv.refusal, coalesce(ri.name, p.name)
      FROM reservations rv LEFT JOIN reservation_items ri ON ri.order_id = rv.order_id LEFT JOIN products p ON p.id = ri.product_id
      WHERE rv.order_id = p_order_id ORDER BY ri.product_id;
    RETURN;
  END IF;
  IF p_not_after IS NOT NULL AND now() > p_not_after THEN
    RAISE EXCEPTION 'reservation window closed at %', p_not_after USING ERRCODE = 'EC001';
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_product_ids, 1), 0) LOOP
    UPDATE products p SET stock = p.stock - p_quantities[i], held = p.held + p_quantities[i], version = p.version + 1, updated_at = now()
      WHERE p.id = p_product_ids[i] AND p.stock >= p_quantities[i] AND NOT p.archived
      RETURNING p.id, p.stock, p.price_cents, p.currency::text AS currency, p.name INTO r;
    IF NOT FOUND THEN
      IF i > 1 THEN
        RAISE EXCEPTION 'short line %', p_product_ids[i] USING ERRCODE = 'EC002';
      END IF;
      -- The same answer as reservations.ts explainShortage: every unknown line, else every short one (every
      -- line when the stock came back meanwhile).
      SELECT jsonb_agg(u.id ORDER BY u.id) INTO v_unknown
        FROM unnest(p_product_ids) AS u(id) LEFT JOIN products p ON p.id = u.id
        WHERE p.id IS NULL OR p.archived;
      IF v_unknown IS NOT NULL THEN
        v_refusal := jsonb_build_object('reason', 'unknown-product', 'productIds', v_unknown);
      ELSE
        SELECT jsonb_build_object('reason', 'insufficient-stock', 'items',
                 coalesce(jsonb_agg(jsonb_build_object('productId', u.id, 'requested', u.q, 'available', p.stock) ORDER BY u.id)
                          FILTER (WHERE p.stock < u.q),
                          jsonb_agg(jsonb_build_object('productId', u.id, 'requested', u.q, 'available', p.stock) ORDER BY u.id)))
          INTO v_refusal
          FROM unnest(p_product_ids, p_quantities) AS u(id, q) JOIN products p ON p.id = u.id;
      END IF;
      UPDATE reservations rv SET status = 'refused', refusal = v_refusal WHERE rv.order_id = p_order_id;
      RETURN QUERY SELECT 'refused'::text, NULL::uuid, NULL::integer, NULL::bigint, NULL::text, NULL::integer, false, v_refusal, NULL::text;
      RETURN;
    END IF;
    -- The price the customer was shown, where the caller says it: another price or currency now refuses the
    -- whole reservation (rolled back, the service stores the refusal). An index past either array is NULL.
    IF (p_expected_prices[i] IS NOT NULL AND p_expected_prices[i] <> r.price_cents)
       OR (p_expected_currencies[i] IS NOT NULL AND p_expected_currencies[i] <> r.currency) THEN
      RAISE EXCEPTION 'price of % changed', r.id USING ERRCODE = 'EC004';
    END IF;
    IF first_currency IS NULL THEN
      first_currency := r.currency;
    ELSIF first_currency <> r.currency THEN
      RAISE EXCEPTION 'mixed currencies % and %', first_currency, r.currency USING ERRCODE = 'EC003';
    END IF;
    INSERT INTO reservation_items (order_id, product_id, quantity, unit_price_cents, currency, name)
      VALUES (p_order_id, r.id, p_quantities[i], r.price_cents, r.currency, r.name);
    status := 'reserved';
    product_id := r.id;
    quantity := p_quantities[i];
    unit_price_cents := r.price_cents;
    currency := r.currency;
    stock_left := r.stock;
    replayed := false;
    refusal := NULL;
    name := r.name;
    RETURN NEXT;
  END LOOP;
END
$$;

CREATE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz)
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean, refusal jsonb, name text)
LANGUAGE sql AS $$
  SELECT * FROM reserve_stock(p_order_id, p_product_ids, p_quantities, p_not_after, NULL::bigint[], NULL::text[])
$$;
