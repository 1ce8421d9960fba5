-- wrk script: the storefront's `me` on the Admin API, with the bearer token
-- of a logged-in administrator from the TOKEN environment variable
-- (seedsessions -wrk sets it).
wrk.method = "POST"
wrk.body   = '{"query":"{ me { id identifier } }"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
