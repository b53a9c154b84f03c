-- Up Migration
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'failed', 'cancelled')),
  -- Lines as the client sent them; unitPriceCents is filled from the reservation (never from the client).
  items jsonb NOT NULL,
  total_cents bigint,
  currency text NOT NULL DEFAULT 'USD',
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  -- After this instant a still-pending order belongs to the reconciler.
  deadline_at timestamptz NOT NULL,
  -- Reconciler lease, so replicas never settle the same order at once.
  lease_until timestamptz,
  rejection jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_idempotency_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user_idx ON orders (user_id, id DESC);
CREATE INDEX orders_pending_idx ON orders (deadline_at) WHERE status = 'pending';
