DROP TABLE IF EXISTS session_cache_outbox;
