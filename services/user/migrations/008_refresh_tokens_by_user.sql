-- Up Migration
-- Rolling update: the build holds a SHARE lock on refresh_tokens, so logins, refreshes and logouts of the previous
-- release wait while it reads the table once (the unexpired tokens and those of the prune's last hours, now that
-- expired ones are pruned); reads of tokens go on. Not CONCURRENTLY: migrations run in a transaction.
-- Ending every session of an account (its role or password changed: refresh_lock_user_families, then
-- refresh_revoke_user) finds its tokens by user_id, which no index held: both statements read the whole table, 65 ms
-- and 117 ms over 500,000 tokens, inside the transaction that holds the account's session locks. Also what the
-- users foreign key's ON DELETE CASCADE looks a user's tokens up by.
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
