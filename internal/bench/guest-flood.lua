-- wrk script: a guest-session flood that counts what the server answered.
-- Like guest-session.lua (one tokenless activeCustomer per request, no
-- token ever sent back), but it reads every response: how many carried a
-- new guest token, how many were refused with TOO_MANY_REQUESTS, and how
-- many were something else. docs/guest-bounds.md runs it.
--
--   wrk -t1 -c50 -d30s -s internal/bench/guest-flood.lua http://127.0.0.1:3191/shop-api
wrk.method = "POST"
wrk.body   = '{"query":"{ activeCustomer { id } }"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created, refused, other = 0, 0, 0
end

function response(status, headers, body)
  local token = nil
  for k, v in pairs(headers) do
    if string.lower(k) == "vendure-auth-token" then token = v end
  end
  if status == 200 and token ~= nil and token ~= "" then
    created = created + 1
  elseif status == 200 and string.find(body, '"TOO_MANY_REQUESTS"', 1, true) then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, r, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("refused")
    o = o + t:get("other")
  end
  io.write(string.format("new guest tokens: %d, TOO_MANY_REQUESTS: %d, other: %d\n", c, r, o))
end
