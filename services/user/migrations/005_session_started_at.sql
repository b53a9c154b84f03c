-- Up Migration
-- Rolling update: the UPDATE holds row locks on every refresh token until the migration commits: a refresh of the
-- previous release waits for it (refresh tokens are never deleted, so it grows); the column stays nullable, and rows
-- the previous release writes without it are read as before.
-- When the session (refresh token family) began, copied on every rotation: a family ends SESSION_MAX_AGE_SECONDS
-- after its login however often it refreshes (OWASP's absolute timeout). Families from before this migration get
-- their first token's created_at, their login (refresh tokens are never deleted). A row written without it (by a
-- replica still on the old code during a rolling update) is read the same way, so NULL stays allowed.
ALTER TABLE refresh_tokens ADD COLUMN session_started_at timestamptz;
UPDATE refresh_tokens t SET session_started_at = f.started_at
  FROM (SELECT family_id, min(created_at) AS started_at FROM refresh_tokens GROUP BY family_id) f
  WHERE t.family_id = f.family_id;
