-- Evictions the shared session cache (Redis) must apply, written in the same
-- transaction as the session deletes they belong to. The instance that
-- deleted the sessions applies them right after commit and stamps
-- applied_at; when it cannot reach the cache, whichever instance can applies
-- them within a second. Applied rows are kept for a minute, so that the
-- evictions a Redis failover may have lost can be applied again.
-- token_hash NULL means: clear the whole cache (a channel or role change).
CREATE TABLE session_cache_outbox (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    applied_at TIMESTAMP
);

--bun:split

-- Serves the pending scan of every instance, once a second.
CREATE INDEX session_cache_outbox_pending_idx ON session_cache_outbox (id) WHERE applied_at IS NULL;

--bun:split

-- Serves the replay after a failover and the removal of old rows.
CREATE INDEX session_cache_outbox_created_at_idx ON session_cache_outbox (created_at);
