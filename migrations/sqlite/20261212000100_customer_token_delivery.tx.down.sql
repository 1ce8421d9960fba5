ALTER TABLE customer_token DROP COLUMN delivery_id;
