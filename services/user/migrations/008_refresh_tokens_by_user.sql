-- Up Migration
-- Rolling update: the build holds a SHARE lock on refresh_tokens, so logins, refreshes and logouts of the previous
-- release wait while it reads the table once (0.5 s over 500,000 tokens; expired ones are pruned); reads of tokens
-- go on. Not CONCURRENTLY: migrations run in a transaction. IF NOT EXISTS: a shop whose tokens take longer than its
-- requests may wait builds it by hand with CREATE INDEX CONCURRENTLY first (docs/deploy.md).
-- Ending every session of an account (its role or password changed: refresh_lock_user_families, then
-- refresh_revoke_user) found its tokens by user_id, which no index held: both statements read the whole table,
-- 65 ms and 117 ms over 500,000 tokens, inside the transaction that holds the account's session locks. Also what
-- the users foreign key's ON DELETE CASCADE looks an account's tokens up by.
CREATE INDEX IF NOT EXISTS refresh_tokens_user_idx ON refresh_tokens (user_id);
