-- Up Migration
-- Expired refresh tokens are now deleted (background/prune-sessions.ts), except in a family that still has a live token
-- without session_started_at (its start is read from the family's first token). Such tokens are only written by a
-- replica older than 005 during a rolling update, so this index stays tiny and the prune's check of it costs nothing.
CREATE INDEX refresh_tokens_unstarted_idx ON refresh_tokens (family_id) WHERE session_started_at IS NULL;
