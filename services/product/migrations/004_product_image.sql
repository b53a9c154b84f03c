-- Up Migration
-- Rolling update: the UPDATE holds row locks on every product it changes until the migration commits: reservations
-- of the previous release on those products wait for it (seconds on a large catalog).
-- An optional picture per product: a path on the shop's own origin (the storefront serves the files and its
-- CSP allows images from itself only), so no product page ever loads from another host.
ALTER TABLE products ADD COLUMN image_url text CHECK (image_url IS NULL OR (length(image_url) <= 2048 AND image_url ~ '^/[^/[:space:]][^[:space:]]*$'));

-- Catalogs seeded before this migration get the demo pictures too (web/public/images/products/<sku>.svg).
UPDATE products SET image_url = '/images/products/' || lower(sku) || '.svg'
WHERE image_url IS NULL AND sku IN (
  'BOOK-DDIA',
  'BOOK-SICP',
  'BOOK-PRAGPROG',
  'BOOK-TAOCP-1',
  'ELEC-KB-TKL',
  'ELEC-MOUSE-ERGO',
  'ELEC-HEADPHONES-NC',
  'ELEC-MONITOR-27',
  'ELEC-USBC-HUB',
  'HOME-KETTLE',
  'HOME-FRENCH-PRESS',
  'HOME-DESK-LAMP',
  'HOME-PLANT-POT',
  'APP-HOODIE',
  'APP-TEE',
  'APP-SOCKS-3',
  'APP-CAP',
  'SPORT-YOGA-MAT',
  'SPORT-BOTTLE',
  'SPORT-RUN-BELT'
);
