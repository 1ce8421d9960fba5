DROP INDEX session_authenticated_last_used_idx;
DROP INDEX session_client_metadata_idx;
ALTER TABLE session DROP COLUMN user_agent;
ALTER TABLE session DROP COLUMN client_address;
ALTER TABLE session DROP COLUMN last_used_at;
