-- Drops everything 20261126000001_init.tx.up.sql created, in reverse order.
-- Indexes go with their tables.

DROP TABLE IF EXISTS session;

--bun:split

DROP TABLE IF EXISTS customer_channel;

--bun:split

DROP TABLE IF EXISTS customer;

--bun:split

DROP TABLE IF EXISTS administrator;

--bun:split

DROP TABLE IF EXISTS authentication_method;

--bun:split

DROP TABLE IF EXISTS user_role;

--bun:split

DROP TABLE IF EXISTS "user";

--bun:split

DROP TABLE IF EXISTS role_channel;

--bun:split

DROP TABLE IF EXISTS role;

--bun:split

DROP TABLE IF EXISTS channel;
