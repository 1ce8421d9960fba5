-- A guest order joins a registered customer's order history only once it
-- is placed (OrderService.setState): account_customer_id names that
-- account's customer, while customer_id stays the order's own guest
-- customer (what the guest entered), so the order never counts as the
-- account's cart and the account's profile is never shown through it.
ALTER TABLE "order" ADD COLUMN account_customer_id INTEGER REFERENCES customer (id) ON DELETE SET NULL;

--bun:split

-- Serves the orders an account reads through the link.
CREATE INDEX order_account_customer_id_idx ON "order" (account_customer_id) WHERE account_customer_id IS NOT NULL;

--bun:split

-- Serves setCustomerForOrder's check that an order's guest customer is its
-- alone (one guest customer per order), and customer deletes (ON DELETE
-- SET NULL).
CREATE INDEX order_customer_id_idx ON "order" (customer_id);
