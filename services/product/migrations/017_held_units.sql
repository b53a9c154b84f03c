-- Up Migration
-- Rolling update: the LOCK TABLE holds every write of reservations (both releases' reservations and releases) and the
-- backfill's UPDATE row locks on every product with held units, until the migration commits: measured 4.1 s over
-- 100,000 products and 1,000,000 reservation lines (90,000 products with units held). A reservation waits at most its
-- 2 s lock_timeout (016), then answers 503 and its order stays pending until the order service's reconciler places it
-- again; a release likewise. On a large shop apply this release in a quiet hour (docs/deploy.md, "Rolling updates
-- and migrations").
-- products.held: the units of the product that reservations hold (lines of reservations in status 'reserved'), kept
-- by reserve_stock and a trigger on releases, so a restock can keep stock + held <= MAX_STOCK (1,000,000,000,
-- product-repository.ts ADJUST_STOCK). Without it a restock counted stock only: restocking while units were held took
-- stock + held past 2^31 - 1, and the release that gave them back overflowed `integer` (22003: 500, the reservation
-- stranded, its units lost, the order reconciler retrying for ever). A reservation moves units from stock to held and
-- a release back, so the sum only grows by a restock, which now counts it; removals only lower it.
-- Kept in the database, not by the service's SQL: reservations are reserve_stock (replaced below, whichever release's
-- pod calls it), and a release is the previous release's inline SQL too during a rolling update, so a counter that
-- only this release's code kept would drift: a trigger on the release's status flip keeps it. bigint: a database that
-- went through the overflow may already hold more than 2^31 - 1 units of a product, and no query the previous release
-- runs returns this column. (products.stock stays integer: a bigint stock changed the result type of the previous
-- release's prepared statements.)

-- Every transaction that changes reservations takes this lock first (a reservation claims the order id, a release
-- flips the status), then the products' rows: taken first here too, so the backfill counts a settled set of held
-- lines (nothing flips or is inserted until commit) and a release between its flip and its stock return cannot
-- deadlock with the ALTER below. Reads go on.
LOCK TABLE reservations IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE products ADD COLUMN held bigint NOT NULL DEFAULT 0 CONSTRAINT products_held_check CHECK (held >= 0);

UPDATE products p SET held = h.units
  FROM (SELECT i.product_id, sum(i.quantity) AS units
          FROM reservation_items i JOIN reservations r ON r.order_id = i.order_id
         WHERE r.status = 'reserved' GROUP BY i.product_id) h
 WHERE p.id = h.product_id;

-- A reservation moves its units from stock to held in the statement that takes them, in the row it locks and updates
-- anyway: 008's function with `held = p.held + p_quantities[i]` added to that UPDATE and 016's lock timeout kept (a
-- CREATE OR REPLACE resets a function's settings). Not a trigger on reservation_items: its second update of the
-- product's row per line cost 19% (one line) to 28% (three lines) more server CPU per reservation; this costs none we
-- could measure. The previous release calls this overload too; the four-argument one of 006 (two releases back)
-- becomes this one without expected prices, which is what it was, so whichever a pod calls keeps held.
CREATE OR REPLACE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz,
                                         p_expected_prices bigint[], p_expected_currencies text[])
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean, refusal jsonb)
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
      SELECT rv.status, ri.product_id, ri.quantity, ri.unit_price_cents, ri.currency::text, NULL::integer, true, rv.refusal
      FROM reservations rv LEFT JOIN reservation_items ri ON ri.order_id = rv.order_id
      WHERE rv.order_id = p_order_id ORDER BY ri.product_id;
    RETURN;
  END IF;
  IF p_not_after IS NOT NULL AND now() > p_not_after THEN
    RAISE EXCEPTION 'reservation window closed at %', p_not_after USING ERRCODE = 'EC001';
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_product_ids, 1), 0) LOOP
    UPDATE products p SET stock = p.stock - p_quantities[i], held = p.held + p_quantities[i], version = p.version + 1, updated_at = now()
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

CREATE OR REPLACE FUNCTION reserve_stock(p_order_id uuid, p_product_ids uuid[], p_quantities integer[], p_not_after timestamptz)
RETURNS TABLE (status text, product_id uuid, quantity integer, unit_price_cents bigint, currency text, stock_left integer, replayed boolean, refusal jsonb)
LANGUAGE sql AS $$
  SELECT * FROM reserve_stock(p_order_id, p_product_ids, p_quantities, p_not_after, NULL::bigint[], NULL::text[])
$$;

-- A reservation leaving 'reserved' (a release; a refusal has no lines) frees its lines' units. Rows locked in product
-- id order, the order of reservations and of the release's own stock return that follows, so nothing deadlocks. It
-- marks the transaction as a release's (transaction-local setting), which the bound below lets through. Its tables
-- are found in the schema it was made in, also from a session whose search path lacks it (an operator's psql).
CREATE FUNCTION free_released_units() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  line record;
BEGIN
  PERFORM set_config('product.releasing', 'on', true);
  FOR line IN SELECT product_id, quantity FROM reservation_items WHERE order_id = NEW.order_id ORDER BY product_id LOOP
    UPDATE products SET held = held - line.quantity WHERE id = line.product_id;
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER reservations_free AFTER UPDATE OF status ON reservations
  FOR EACH ROW WHEN (OLD.status = 'reserved' AND NEW.status <> 'reserved') EXECUTE FUNCTION free_released_units();

-- The bound in the database too, for the previous release's pods during a rolling update: their restock checks stock
-- alone. An update that raises stock and takes stock + held past 1,000,000,000 (and higher than it was) is skipped
-- (the row is left as it was, the statement reports no row), unless it is a release's stock return (the transaction
-- flipped a reservation above): such a pod answers what it answers for its own bound, 409 stock-limit-exceeded, after
-- its retries. This release's restock never gets here (its WHERE counts held). Reservations lower stock: the WHEN is
-- false at its first test, no function is called (no cost measured on the order path).
CREATE FUNCTION skip_restock_past_bound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RETURN NULL;
END
$$;
CREATE TRIGGER products_stock_bound BEFORE UPDATE OF stock ON products
  FOR EACH ROW WHEN (NEW.stock > OLD.stock AND NEW.stock::bigint + NEW.held > 1000000000
                     AND NEW.stock::bigint + NEW.held > OLD.stock::bigint + OLD.held
                     AND current_setting('product.releasing', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION skip_restock_past_bound();
