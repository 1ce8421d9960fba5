CREATE INDEX CONCURRENTLY IF NOT EXISTS session_user_id_idx ON session (user_id);

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_user_created_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_type_idx;

--bun:split

DROP INDEX CONCURRENTLY IF EXISTS session_created_idx;
