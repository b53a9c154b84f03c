-- Up Migration
-- reserve_stock as in 006, with two more arrays, one entry per line (NULL: no expectation): the unit price and
-- the currency the customer was shown. A line whose product is priced otherwise now raises EC004 and the whole
-- call rolls back: nothing is reserved, and the service stores a `price-changed` refusal (reserve-stock.ts).
-- A new overload, not a replacement: a product service of the previous release, still running during a rolling
-- deploy, keeps calling the four-argument function of 006.
CREATE OR REPLACE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz,
                                         p_expected_prices bigint[], p_expected_currencies text[])
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
    RETURN QUERY
      SELECT rv.status, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, NULL::integer, true, rv.refusal
      FROM reservations rv LEFT JOIN reservation_items ri ON ri.order_id = rv.order_id
      WHERE rv.order_id = p_order_id ORDER BY ri.product_id;
    RETURN;
  END IF;
  IF p_not_after IS NOT NULL AND now() > p_not_after THEN
    RAISE EXCEPTION 'reservation window closed at %', p_not_after USING ERRCODE = 'EC001';
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_product_ids, 1), 0) LOOP
    UPDATE products p SET stock = p.stock - p_quantities[i], version = p.version + 1, updated_at = now()
      WHERE p.id = p_product_ids[i] AND p.stock >= p_quantities[i] AND NOT p.archived
      RETURNING p.id, p.stock, p.price_cents, p.currency::text AS currency INTO r;
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
      RETURN QUERY SELECT 'refused'::text, NULL::uuid, NULL::integer, NULL::bigint, NULL::text, NULL::integer, false, v_refusal;
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
    INSERT INTO reservation_items (order_id, product_id, quantity, unit_price_cents, currency)
      VALUES (p_order_id, r.id, p_quantities[i], r.price_cents, r.currency);
    status := 'reserved';
    product_id := r.id;
    quantity := p_quantities[i];
    unit_price_cents := r.price_cents;
    currency := r.currency;
    stock_left := r.stock;
    replayed := false;
    refusal := NULL;
    RETURN NEXT;
  END LOOP;
END
$$;
