-- One-time tokens of customer accounts: e-mail verification and password
-- reset. token_hash is the lower-case hex SHA-256 of the token; the raw
-- token is never stored (it only reaches the customer, through the
-- notifier). A user holds at most one token of each kind: issuing a new one
-- replaces the old, and using one deletes it.
CREATE TABLE customer_token (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL,
    user_id    bigint      NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    kind       text        NOT NULL,
    token_hash text        NOT NULL,
    expires    timestamptz NOT NULL,
    CONSTRAINT customer_token_kind_check CHECK (kind IN ('verification', 'password_reset')),
    CONSTRAINT customer_token_user_id_kind_key UNIQUE (user_id, kind)
);

--bun:split

CREATE UNIQUE INDEX customer_token_token_hash_key ON customer_token (token_hash);

--bun:split

-- One live registered customer per e-mail address, whatever the case: two
-- registrations of one address at once cannot both commit. Only customers
-- count ("user".identifier is deliberately not unique: an administrator may
-- share a customer's address), and guest customers (no user) may repeat an
-- address.
CREATE UNIQUE INDEX customer_email_address_key ON customer (lower(email_address))
    WHERE deleted_at IS NULL AND user_id IS NOT NULL;
