-- Up Migration
CREATE TABLE products (
  id uuid PRIMARY KEY,
  sku text NOT NULL,
  name text NOT NULL,
  description text,
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  currency char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  -- Units that can still be ordered: reservations take from it, releases give back,
  -- so "never below what is reserved" is simply "never below zero".
  stock integer NOT NULL CHECK (stock >= 0),
  category text,
  version integer NOT NULL DEFAULT 1,
  archived boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- 'simple' (no stemming) plus prefix queries: "lap" finds "Laptop", in any language.
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, name), 'A') ||
    setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'B')
  ) STORED
);
-- A SKU names one product for good, archived or not, so old orders never point at a reused SKU.
CREATE UNIQUE INDEX products_sku_key ON products (sku);
-- Catalog pages are keyset scans by id (uuidv7, time-ordered) over live products.
CREATE INDEX products_live_idx ON products (id) WHERE NOT archived;
CREATE INDEX products_category_idx ON products (category, id) WHERE NOT archived;
CREATE INDEX products_search_idx ON products USING gin (search);

-- One row per order: the primary key makes a repeated or concurrent POST reserve at most once.
CREATE TABLE reservations (
  order_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('reserved', 'released')),
  created_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);

CREATE TABLE reservation_items (
  order_id uuid NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
  product_id uuid NOT NULL REFERENCES products (id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  currency char(3) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX reservation_items_product_idx ON reservation_items (product_id);
