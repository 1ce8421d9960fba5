-- Serves the idle clean-up of guest carts: rows with no user and an active
-- order whose updated_at is older than the cart idle cut-off
-- (ANONYMOUS_CART_IDLE_TIMEOUT). Expand-only: an instance of the previous
-- release neither reads nor needs it.
CREATE INDEX session_anonymous_cart_idle_idx ON session (updated_at)
    WHERE user_id IS NULL AND active_order_id IS NOT NULL;
