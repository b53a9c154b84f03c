-- Up Migration
-- Rolling update: a new table and its index, built here while empty; the previous release never reads or writes
-- them, and registers as before (without a key), so nothing of it waits.
-- A registration named by an Idempotency-Key is made once: a retry after a lost answer (a timeout, a gateway 504,
-- a connection cut after the COMMIT) finds its key here and answers the account it made instead of 409 email-taken.
-- Written in the registration's own transaction, so a refused one (409 for an email another account has) keeps no
-- key. What is kept of the request is the SHA-256 of its email and name as sent (request_digest), never the password
-- nor the body: a retry's password is checked against the account's argon2 hash (use-cases/register.ts). Keys past
-- REGISTER_KEY_RETENTION_HOURS are deleted in batches found by created_at (background/prune-registration-keys.ts).
CREATE TABLE registration_keys (
  idempotency_key text PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  request_digest bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registration_keys_created_idx ON registration_keys (created_at);
