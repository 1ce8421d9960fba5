-- wrk script: the Shop API's `me`, each request with the next logged-in
-- token of a file (one a line; seedsessions -tokens writes one), so that
-- with SESSION_CACHE_STRATEGY=noop every request reads a different
-- session from the database, as a server with many clients and a cold
-- cache does. Usage:
--
--   TOKENS=/tmp/tokens.txt wrk -t1 -c50 -d15s --latency \
--     -s internal/bench/me-tokens.lua http://127.0.0.1:3111/shop-api
--
-- Every response must be a 200 with data.me and no errors; the first few
-- that are not are printed, and their count at the end. With EXPECT=unknown
-- the tokens are ones no session has (random ones), and every response must
-- be a 200 with me null and FORBIDDEN instead: the negative cache's load
-- (the first pass over the file reads each token once, later passes none).
-- wrk only prints an error in the script and then runs without it, so a
-- missing or empty file stops wrk here.
local path = os.getenv("TOKENS") or "tokens.txt"
local unknown = os.getenv("EXPECT") == "unknown"
local tokens = {}
local f = io.open(path, "r")
if f then
  for line in f:lines() do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  f:close()
end
if #tokens == 0 then
  io.stderr:write("me-tokens.lua: no tokens in " .. path .. " (set TOKENS)\n")
  os.exit(1)
end

wrk.method = "POST"
wrk.body   = '{"query":"{ me { id identifier } }"}'
wrk.headers["Content-Type"] = "application/json"

-- Each wrk thread runs its own copy of this script: threads start at
-- different offsets so that they do not send the same tokens in step.
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
  thread:set("offset", #threads)
end

local i = 0
failures = 0
init = function(args)
  i = ((offset or 0) * 7919) % #tokens
end

request = function()
  i = i % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format()
end

response = function(status, headers, body)
  local ok
  if unknown then
    ok = status == 200 and string.find(body, '"me":null', 1, true) and string.find(body, '"FORBIDDEN"', 1, true)
  else
    ok = status == 200 and string.find(body, '"me":{"id"', 1, true) and not string.find(body, '"errors"', 1, true)
  end
  if not ok then
    failures = failures + 1
    if failures <= 5 then
      print("unexpected response: " .. status .. " " .. body)
    end
  end
end

done = function(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + (t:get("failures") or 0) end
  if failed > 0 or summary.errors.status > 0 then
    print("FAILED: " .. failed .. " unexpected responses (" .. summary.errors.status .. " non-2xx)")
  end
end
