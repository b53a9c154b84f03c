-- Up Migration
-- An admin's stock adjustment with an Idempotency-Key is applied once: a retry after a lost answer (a gateway
-- 504 while the write still committed) finds its key here and changes nothing. Written in the adjustment's
-- own transaction, so a refused adjustment (not enough unreserved stock) leaves no key behind.
CREATE TABLE stock_adjustments (
  product_id uuid NOT NULL,
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  delta integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, idempotency_key)
);
