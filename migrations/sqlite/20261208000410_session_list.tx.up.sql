-- Serve the Admin API's sessions list (see the PostgreSQL migration of the
-- same ID): a user's sessions newest first, the count by type, and pages
-- by creation time. session_user_created_idx serves every lookup by
-- user_id, so session_user_id_idx goes.
CREATE INDEX IF NOT EXISTS session_user_created_idx ON session (user_id, created_at, id);

--bun:split

DROP INDEX IF EXISTS session_user_id_idx;

--bun:split

CREATE INDEX IF NOT EXISTS session_type_idx ON session (type);

--bun:split

CREATE INDEX IF NOT EXISTS session_created_idx ON session (created_at, id);
