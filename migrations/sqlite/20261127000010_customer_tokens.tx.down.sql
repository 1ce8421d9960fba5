DROP INDEX IF EXISTS customer_email_address_key;

--bun:split

DROP TABLE IF EXISTS customer_token;
