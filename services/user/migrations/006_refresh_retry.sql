-- Up Migration
-- A refresh sent again after its answer was lost (a browser that navigated while its page's refresh was on its way
-- drops the answer carrying the new cookie, after the rotation committed): the client names each refresh with an
-- Idempotency-Key, whose SHA-256 the rotation keeps on the token it spent (rotation_key), and the new token keeps
-- which token it replaced (rotated_from). The same token with the same key, within the retry window and while that
-- successor was never used, is that refresh again: the unused successor is spent and another issued
-- (use-cases/refresh-session.ts). Without the key a spent token is a reuse, as before. NULL in both for rows from
-- before this migration or from a replica on the old code during a rolling update: no retry is possible there.
ALTER TABLE refresh_tokens ADD COLUMN rotated_from bytea, ADD COLUMN rotation_key bytea;
