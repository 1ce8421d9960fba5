-- Initial schema: channels, roles, users and their profiles, sessions.
-- Columns and types mirror the bun models in package entity. Every timestamp
-- is timestamptz; the application writes UTC instants (bun formats time.Time
-- in UTC) and never relies on SQL-side defaults for them.

CREATE TABLE channel (
    id                       bigserial   PRIMARY KEY,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    code                     text        NOT NULL,
    token                    text        NOT NULL,
    default_language_code    text        NOT NULL,
    available_language_codes text        NOT NULL,
    default_currency_code    text        NOT NULL,
    available_currency_codes text        NOT NULL,
    prices_include_tax       boolean     NOT NULL,
    track_inventory          boolean     NOT NULL,
    out_of_stock_threshold   integer     NOT NULL,
    CONSTRAINT channel_code_key UNIQUE (code),
    CONSTRAINT channel_token_key UNIQUE (token)
);

--bun:split

CREATE TABLE role (
    id          bigserial   PRIMARY KEY,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    code        text        NOT NULL,
    description text        NOT NULL,
    permissions text        NOT NULL,
    CONSTRAINT role_code_key UNIQUE (code)
);

--bun:split

CREATE TABLE role_channel (
    role_id    bigint NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    channel_id bigint NOT NULL REFERENCES channel (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, channel_id)
);

--bun:split

CREATE INDEX role_channel_channel_id_idx ON role_channel (channel_id);

--bun:split

-- "user" is a reserved word in PostgreSQL and must always be quoted.
-- identifier is deliberately not unique: an administrator and a customer may
-- share an e-mail address and are then two different users.
CREATE TABLE "user" (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    identifier text        NOT NULL,
    verified   boolean     NOT NULL,
    last_login timestamptz
);

--bun:split

CREATE INDEX user_identifier_lower_idx ON "user" (lower(identifier));

--bun:split

CREATE TABLE user_role (
    user_id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    role_id bigint NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

--bun:split

CREATE INDEX user_role_role_id_idx ON user_role (role_id);

--bun:split

CREATE TABLE authentication_method (
    id                  bigserial   PRIMARY KEY,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    user_id             bigint      NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    type                text        NOT NULL,
    identifier          text,
    password_hash       text,
    strategy            text,
    external_identifier text
);

--bun:split

CREATE INDEX authentication_method_user_id_idx ON authentication_method (user_id);

--bun:split

-- An administrator profile is meaningless without its user: it goes with it.
CREATE TABLE administrator (
    id            bigserial   PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    first_name    text        NOT NULL,
    last_name     text        NOT NULL,
    email_address text        NOT NULL,
    user_id       bigint      NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    CONSTRAINT administrator_user_id_key UNIQUE (user_id)
);

--bun:split

-- A customer outlives its user (it becomes a guest customer, keeping its
-- orders), so deleting the user only clears user_id.
CREATE TABLE customer (
    id            bigserial   PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    title         text,
    first_name    text        NOT NULL,
    last_name     text        NOT NULL,
    phone_number  text,
    email_address text        NOT NULL,
    user_id       bigint      REFERENCES "user" (id) ON DELETE SET NULL,
    CONSTRAINT customer_user_id_key UNIQUE (user_id)
);

--bun:split

CREATE TABLE customer_channel (
    customer_id bigint NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    channel_id  bigint NOT NULL REFERENCES channel (id) ON DELETE CASCADE,
    PRIMARY KEY (customer_id, channel_id)
);

--bun:split

CREATE INDEX customer_channel_channel_id_idx ON customer_channel (channel_id);

--bun:split

-- One table for both session kinds; type is the discriminator. token_hash is
-- the lower-case hex SHA-256 of the token: the raw token is never stored.
-- active_order_id has NO foreign key yet: the order table arrives in a later
-- migration, which adds the constraint together with that table.
CREATE TABLE session (
    id                      bigserial   PRIMARY KEY,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    token_hash              text        NOT NULL,
    type                    text        NOT NULL,
    expires                 timestamptz NOT NULL,
    invalidated             boolean     NOT NULL DEFAULT false,
    active_order_id         bigint,
    active_channel_id       bigint      REFERENCES channel (id) ON DELETE CASCADE,
    user_id                 bigint      REFERENCES "user" (id) ON DELETE CASCADE,
    authentication_strategy text,
    CONSTRAINT session_type_check CHECK (type IN ('anonymous', 'authenticated'))
);

--bun:split

CREATE UNIQUE INDEX session_token_hash_key ON session (token_hash);

--bun:split

CREATE INDEX session_user_id_idx ON session (user_id);

--bun:split

CREATE INDEX session_active_order_id_idx ON session (active_order_id);

--bun:split

CREATE INDEX session_active_channel_id_idx ON session (active_channel_id);

--bun:split

-- Serves the expired-session clean-up (expires before now).
CREATE INDEX session_expires_idx ON session (expires);

--bun:split

-- Serves the idle anonymous-session clean-up: rows with no user and no active
-- order whose updated_at is older than the idle cut-off.
CREATE INDEX session_anonymous_idle_idx ON session (updated_at)
    WHERE user_id IS NULL AND active_order_id IS NULL;
