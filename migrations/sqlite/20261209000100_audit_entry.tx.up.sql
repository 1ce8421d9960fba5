-- The audit log of administrative changes (see the PostgreSQL migration of
-- the same ID).
CREATE TABLE audit_entry (
    id               INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at       TIMESTAMP NOT NULL,
    actor_user_id    INTEGER,
    actor_identifier TEXT      NOT NULL,
    client_address   TEXT      NOT NULL,
    channel_id       INTEGER,
    action           TEXT      NOT NULL,
    entity_type      TEXT      NOT NULL,
    entity_id        INTEGER,
    detail           TEXT      NOT NULL
);

--bun:split

CREATE INDEX audit_entry_created_idx ON audit_entry (created_at, id);

--bun:split

CREATE INDEX audit_entry_entity_idx ON audit_entry (entity_type, entity_id);

--bun:split

CREATE INDEX audit_entry_actor_idx ON audit_entry (actor_user_id, created_at);
