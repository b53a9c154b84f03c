-- Up Migration
-- The whole reservation in one round trip (see docs/design.md, "Reservations in one statement").
-- Same rules as before: claim the order id first (a duplicate waits for the winner, then replays it),
-- then one conditional UPDATE per product, in the id order the caller sorted, stopping at the first
-- short line; any RAISE rolls back everything the call did, so it is all or nothing.
CREATE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz)
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  i integer;
  r record;
  first_currency text;
BEGIN
  INSERT INTO reservations (order_id, status) VALUES (p_order_id, 'reserved') ON CONFLICT (order_id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN QUERY
      SELECT rv.status, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, NULL::integer, true
      FROM reservations rv JOIN reservation_items ri ON ri.order_id = rv.order_id
      WHERE rv.order_id = p_order_id ORDER BY ri.product_id;
    RETURN;
  END IF;
  -- After the claim, so a repeat of a reservation taken in time still replays it.
  IF p_not_after IS NOT NULL AND now() > p_not_after THEN
    RAISE EXCEPTION 'reservation window closed at %', p_not_after USING ERRCODE = 'EC001';
  END IF;
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
    RETURN NEXT;
  END LOOP;
END
$$;
