-- Serve the Admin API's sessions list, which answers a filtered page with
-- its exact total (docs/benchmarks.md, "Sessions list"):
--   session_user_created_idx  a user's sessions, counted and paged newest
--                             first; it also serves every lookup by user_id,
--                             so session_user_id_idx goes;
--   session_type_idx          the count by type (deduplicated: a few MB);
--   session_created_idx       pages newest (or oldest) first, filtered or
--                             not.
-- Expand-only: the previous release reads nothing new, and its lookups by
-- user_id use the new index. Not in a transaction: CONCURRENTLY keeps the
-- hot table writable while each index builds; a build that failed left an
-- INVALID index, dropped first.
DROP INDEX CONCURRENTLY IF EXISTS session_user_created_idx;

--bun:split

CREATE INDEX CONCURRENTLY session_user_created_idx ON session (user_id, created_at, id);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_user_id_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_type_idx;

--bun:split

CREATE INDEX CONCURRENTLY session_type_idx ON session (type);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_created_idx;

--bun:split

CREATE INDEX CONCURRENTLY session_created_idx ON session (created_at, id);
