ALTER TABLE customer_token DROP COLUMN password_hash;
