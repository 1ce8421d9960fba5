-- The password chosen at a registration that still waits for its e-mail
-- verification lives with that registration's verification token, not with
-- the account: the token that verifies sets it. A later registration of
-- the same unverified address replaces the token and the password with it,
-- so a password set by someone who never proved the mailbox cannot survive
-- the owner's verification. NULL: no password was chosen (the verification
-- asks for one), and always NULL for other kinds of token.
ALTER TABLE customer_token ADD COLUMN password_hash text;
