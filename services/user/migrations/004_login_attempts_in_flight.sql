-- Up Migration
-- Login attempts being checked are counted apart from failures: a right password takes its attempt back without
-- touching the failures, a wrong one moves it to the failures, and only failures lock a key. An attempt left
-- counted by a process that died stops counting 30 s after the last attempt on its key (pending_until).
ALTER TABLE login_failures ADD COLUMN pending integer NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN pending_until timestamptz;
