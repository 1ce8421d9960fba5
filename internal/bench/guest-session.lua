-- wrk script: one new guest (anonymous) session per request.
-- activeCustomer is an Owner query: without a token the server creates a
-- guest session (a cache entry; with GUEST_SESSIONS=eager also a row) and
-- returns its token, as it does for activeOrder. No token is ever sent back.
--
-- Every request comes from one address: past GUEST_ADDRESS_LIMIT (300 per
-- GUEST_ADDRESS_WINDOW) the server answers TOO_MANY_REQUESTS. To measure
-- throughput, start it with GUEST_ADDRESS_LIMIT=0 (and GUEST_CACHE_LIMIT=0
-- for no instance budget); docs/guest-bounds.md measures the limits.
--
--   wrk -t1 -c50 -d30s --latency -s internal/bench/guest-session.lua http://127.0.0.1:3111/shop-api
wrk.method = "POST"
wrk.body   = '{"query":"{ activeCustomer { id } }"}'
wrk.headers["Content-Type"] = "application/json"

-- Fail loudly if a response is not a fresh session.
local checked = 0
response = function(status, headers, body)
  if checked < 3 then
    checked = checked + 1
    local token = nil
    for k, v in pairs(headers) do
      if string.lower(k) == "vendure-auth-token" then token = v end
    end
    if status ~= 200 or token == nil or token == "" or body ~= '{"data":{"activeCustomer":null}}' then
      print("unexpected response: " .. status .. " " .. body)
    end
  end
end
