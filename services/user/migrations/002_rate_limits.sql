-- Up Migration
-- Rolling update: the indexes are built on tables this release creates or that the previous release writes rarely
-- (login failures, request counts); writes wait for the build.
-- Requests per client address and endpoint in fixed windows (registration, login, token endpoints);
-- in PostgreSQL so every replica counts against the same budget.
CREATE TABLE request_counts (
  key text PRIMARY KEY,
  hits integer NOT NULL,
  window_start timestamptz NOT NULL
);

-- Failed logins are now counted per (account, address) and per address, never per account alone:
-- an account-wide lock let anyone lock anyone out. Old account-wide rows are dropped.
DELETE FROM login_failures WHERE key LIKE 'account:%';
CREATE INDEX login_failures_window_idx ON login_failures (window_start);
CREATE INDEX request_counts_window_idx ON request_counts (window_start);
