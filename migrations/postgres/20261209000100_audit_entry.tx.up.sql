-- The audit log of administrative changes: who (the administrator's user
-- and identifier as they were, and the client address), what (an action
-- on an entity) and when, written in the transaction of the change.
-- Entries outlive what they name: no foreign keys, the identifier copied.
CREATE TABLE audit_entry (
    id               bigserial   PRIMARY KEY,
    created_at       timestamptz NOT NULL,
    actor_user_id    bigint,
    actor_identifier text        NOT NULL,
    client_address   text        NOT NULL,
    channel_id       bigint,
    action           text        NOT NULL,
    entity_type      text        NOT NULL,
    entity_id        bigint,
    detail           text        NOT NULL
);

--bun:split

CREATE INDEX audit_entry_created_idx ON audit_entry (created_at, id);

--bun:split

CREATE INDEX audit_entry_entity_idx ON audit_entry (entity_type, entity_id);

--bun:split

CREATE INDEX audit_entry_actor_idx ON audit_entry (actor_user_id, created_at);
