DROP INDEX order_customer_id_idx;

--bun:split

DROP INDEX order_account_customer_id_idx;

--bun:split

ALTER TABLE "order" DROP COLUMN account_customer_id;
