-- Initial schema: channels, roles, users and their profiles, sessions.
-- Columns mirror the bun models in package entity.
--
-- Types as bun's sqlitedialect writes them:
--   * time.Time: TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00', always UTC,
--     trailing fractional zeros trimmed. The declared type TIMESTAMP makes
--     the modernc driver scan it back into a time.Time. Comparing such
--     values as text orders them correctly (see migrations_test.go), so the
--     application must write and compare timestamps only through bun with
--     time.Time values, never with SQL functions such as CURRENT_TIMESTAMP.
--   * bool: TRUE/FALSE, that is INTEGER 1/0.
-- Foreign keys are enforced only with PRAGMA foreign_keys=1, which
-- database.Open sets on every connection.

CREATE TABLE channel (
    id                       INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL,
    code                     TEXT      NOT NULL,
    token                    TEXT      NOT NULL,
    default_language_code    TEXT      NOT NULL,
    available_language_codes TEXT      NOT NULL,
    default_currency_code    TEXT      NOT NULL,
    available_currency_codes TEXT      NOT NULL,
    prices_include_tax       BOOLEAN   NOT NULL,
    track_inventory          BOOLEAN   NOT NULL,
    out_of_stock_threshold   INTEGER   NOT NULL,
    CONSTRAINT channel_code_key UNIQUE (code),
    CONSTRAINT channel_token_key UNIQUE (token)
);

--bun:split

CREATE TABLE role (
    id          INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    code        TEXT      NOT NULL,
    description TEXT      NOT NULL,
    permissions TEXT      NOT NULL,
    CONSTRAINT role_code_key UNIQUE (code)
);

--bun:split

CREATE TABLE role_channel (
    role_id    INTEGER NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channel (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, channel_id)
);

--bun:split

CREATE INDEX role_channel_channel_id_idx ON role_channel (channel_id);

--bun:split

-- "user" is quoted for symmetry with PostgreSQL, where it is reserved.
-- identifier is deliberately not unique: an administrator and a customer may
-- share an e-mail address and are then two different users.
CREATE TABLE "user" (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    identifier TEXT      NOT NULL,
    verified   BOOLEAN   NOT NULL,
    last_login TIMESTAMP
);

--bun:split

CREATE INDEX user_identifier_lower_idx ON "user" (lower(identifier));

--bun:split

CREATE TABLE user_role (
    user_id INTEGER NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES role (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

--bun:split

CREATE INDEX user_role_role_id_idx ON user_role (role_id);

--bun:split

CREATE TABLE authentication_method (
    id                  INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    user_id             INTEGER   NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    type                TEXT      NOT NULL,
    identifier          TEXT,
    password_hash       TEXT,
    strategy            TEXT,
    external_identifier TEXT
);

--bun:split

CREATE INDEX authentication_method_user_id_idx ON authentication_method (user_id);

--bun:split

-- An administrator profile is meaningless without its user: it goes with it.
CREATE TABLE administrator (
    id            INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    deleted_at    TIMESTAMP,
    first_name    TEXT      NOT NULL,
    last_name     TEXT      NOT NULL,
    email_address TEXT      NOT NULL,
    user_id       INTEGER   NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    CONSTRAINT administrator_user_id_key UNIQUE (user_id)
);

--bun:split

-- A customer outlives its user (it becomes a guest customer, keeping its
-- orders), so deleting the user only clears user_id.
CREATE TABLE customer (
    id            INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    deleted_at    TIMESTAMP,
    title         TEXT,
    first_name    TEXT      NOT NULL,
    last_name     TEXT      NOT NULL,
    phone_number  TEXT,
    email_address TEXT      NOT NULL,
    user_id       INTEGER   REFERENCES "user" (id) ON DELETE SET NULL,
    CONSTRAINT customer_user_id_key UNIQUE (user_id)
);

--bun:split

CREATE TABLE customer_channel (
    customer_id INTEGER NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL REFERENCES channel (id) ON DELETE CASCADE,
    PRIMARY KEY (customer_id, channel_id)
);

--bun:split

CREATE INDEX customer_channel_channel_id_idx ON customer_channel (channel_id);

--bun:split

-- One table for both session kinds; type is the discriminator. token_hash is
-- the lower-case hex SHA-256 of the token: the raw token is never stored.
-- active_order_id has NO foreign key yet: the order table arrives in a later
-- migration. SQLite cannot add a constraint to an existing table, so that
-- migration must rebuild this table (create new, copy, drop, rename).
CREATE TABLE session (
    id                      INTEGER   PRIMARY KEY AUTOINCREMENT,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    token_hash              TEXT      NOT NULL,
    type                    TEXT      NOT NULL,
    expires                 TIMESTAMP NOT NULL,
    invalidated             BOOLEAN   NOT NULL DEFAULT FALSE,
    active_order_id         INTEGER,
    active_channel_id       INTEGER   REFERENCES channel (id) ON DELETE CASCADE,
    user_id                 INTEGER   REFERENCES "user" (id) ON DELETE CASCADE,
    authentication_strategy TEXT,
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
