-- Session metadata for the sessions a user sees and ends (activeSessions):
-- when the session was last used (written at most once a minute), and the
-- client address and User-Agent header of the request that wrote the row.
-- The address and user agent are erased SESSION_METADATA_RETENTION after
-- the row's creation by the clean-sessions job (the partial index finds the
-- rows that still hold them). Expand-only: an instance of the previous
-- release neither reads nor writes these columns.
ALTER TABLE session ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE session ADD COLUMN client_address VARCHAR(64);
ALTER TABLE session ADD COLUMN user_agent VARCHAR(512);
-- The clean-up's pass over logged-in sessions idle past
-- SESSION_IDLE_TIMEOUT walks this one.
CREATE INDEX session_authenticated_last_used_idx ON session (last_used_at)
    WHERE user_id IS NOT NULL;
CREATE INDEX session_client_metadata_idx ON session (created_at)
    WHERE client_address IS NOT NULL OR user_agent IS NOT NULL;
