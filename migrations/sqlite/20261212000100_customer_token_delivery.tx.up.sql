-- Which issuance of a one-time token a queued delivery is for: 32 random
-- hex digits, new with each token issued. The delivery job names it, not
-- the token: when it sends, it gives that issuance a fresh token (a new
-- token_hash) and mails that one, so the raw token is stored nowhere, in
-- this table or in River's job table. A job whose issuance was replaced or
-- used meanwhile finds no row and sends nothing. NULL for tokens issued
-- before this column, which no job names.
ALTER TABLE customer_token ADD COLUMN delivery_id TEXT;
