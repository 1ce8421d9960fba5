-- wrk script: the smallest cached `me`, with the bearer token in $TOKEN
-- (from a login's vendure-auth-token response header).
--
--   TOKEN=... wrk -t1 -c50 -d15s --latency -s internal/bench/me-id.lua http://127.0.0.1:3111/admin-api
wrk.method = "POST"
wrk.body   = '{"query":"{ me { id } }"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
