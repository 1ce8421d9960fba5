-- addItemToOrder on existing guest sessions. TOKENS is a comma-separated
-- list of guest tokens (internal/bench/guests.sh makes them); requests
-- cycle through them, so 50 connections do not all queue on one order's
-- row lock, and adjustOrderLine-free quantities stay under Vendure's 999
-- limit for a 30-second run with enough tokens (one per ~30 requests/s).
--   TOKENS=$(internal/bench/guests.sh 200) wrk -t1 -c50 -d30s --latency \
--     -s internal/bench/add_item.lua http://127.0.0.1:3111/shop-api
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS"), "[^,]+") do tokens[#tokens + 1] = t end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[i],
  }, '{"query":"mutation { addItemToOrder(productVariantId: \\"1\\", quantity: 1) { ... on Order { id totalQuantity } ... on ErrorResult { errorCode } } }"}')
end
