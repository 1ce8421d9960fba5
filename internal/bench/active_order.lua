-- activeOrder with a guest token (a guest with a cart). Usage:
--   TOKEN=<vendure-auth-token of a guest with a cart> wrk -t1 -c50 -d30s --latency \
--     -s internal/bench/active_order.lua http://127.0.0.1:3111/shop-api
wrk.method = "POST"
wrk.body   = '{"query":"{ activeOrder { id code totalQuantity subTotalWithTax lines { id quantity linePriceWithTax productVariant { id name sku } } } }"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
