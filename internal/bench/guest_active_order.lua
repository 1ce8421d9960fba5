-- A new guest session per request: activeOrder (an Owner field) without a
-- token, as a storefront's first page view sends it.
--   wrk -t1 -c50 -d15s --latency -s internal/bench/guest_active_order.lua http://127.0.0.1:3111/shop-api
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ activeOrder { id } }"}'
