-- Up Migration
-- A reservation waits at most 2 s for a product row's lock (55P03 after that: 503 + Retry-After, nothing reserved),
-- not the 8 s statement timeout. Its caller (the order service) gives up after its call deadline
-- (RESERVATION_TIMEOUT_MS, 2 s by default) and sends it again, so a longer wait only held a pool connection for an
-- answer no one reads: with a row locked by another session (a stuck admin transaction, a long migration), the
-- placements' calls and their retries filled the pool for 8 s each, and every other request, reads of other
-- products too, waited 5 s for a connection and answered 503. Set on the function, it costs no round trip.
-- The overload of 008 (the one this release calls); 006's is left to the previous release during a rolling update.
ALTER FUNCTION reserve_stock(uuid, uuid[], integer[], timestamptz, bigint[], text[]) SET lock_timeout = '2s';
