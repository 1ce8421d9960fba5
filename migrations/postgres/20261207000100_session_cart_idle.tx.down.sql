DROP INDEX IF EXISTS session_anonymous_cart_idle_idx;
