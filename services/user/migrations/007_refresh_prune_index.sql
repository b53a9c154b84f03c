-- Up Migration
-- Rolling update: the build holds a SHARE lock on refresh_tokens, so logins, refreshes and logouts of the previous
-- release wait while it reads the table once (the unexpired tokens, now that expired ones are pruned);
-- reads of tokens go on. Not CONCURRENTLY: migrations run in a transaction.
-- Expired refresh tokens are now deleted (background/prune-sessions.ts), except in a family that still has a live token
-- without session_started_at (its start is read from the family's first token). Such tokens are only written by a
-- replica older than 005 during a rolling update, so this index stays tiny and the prune's check of it costs nothing.
CREATE INDEX refresh_tokens_unstarted_idx ON refresh_tokens (family_id) WHERE session_started_at IS NULL;
