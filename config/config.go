package config

import (
	"log/slog"
	"time"
)

// Config is the whole server configuration. Build one with Defaults or Load,
// change fields if needed, and check it with Validate before use.
//
// Fields are in alphabetical order. Each one is read by Load from the
// environment variable named in its comment.
//
// A field whose comment says "Zero means the default of …" holds a setting
// whose default belongs to the package that uses it: Defaults leaves it
// zero, so does Load while its variable is unset, and that package applies
// its own default (app.WithDefaults fills them all in, from those
// packages' constants). The "Defaults to" line names the value and the
// constant it comes from. A variable that is set must hold a valid value:
// Load refuses an explicit zero or empty one, as Validate does a negative
// one.
type Config struct {
	// AppEnv is the kind of deployment: "development" or "production".
	// Production changes defaults, never an explicit setting: introspection
	// and the playground are off unless INTROSPECTION or PLAYGROUND turn
	// them on. The services that read it may refuse to start on what a
	// production deployment must not run with. Read from APP_ENV.
	//
	// Defaults to "development".
	AppEnv string

	// AdminPersistedDocuments is PersistedDocuments for the Admin API: a
	// file of the documents registered there (an admin UI's). Read from
	// ADMIN_PERSISTED_DOCUMENTS.
	//
	// Defaults to "" (none).
	AdminPersistedDocuments string

	// AdminPersistedDocumentsOnly is PersistedDocumentsOnly for the Admin
	// API; it needs AdminPersistedDocuments. Read from
	// ADMIN_PERSISTED_DOCUMENTS_ONLY.
	//
	// Defaults to false.
	AdminPersistedDocumentsOnly bool

	// AnonymousCartIdleTimeout is AnonymousIdleTimeout for a guest session
	// with an active order (a cart): not written for this long, it is no
	// longer found and the session clean-up removes it. A cart in use is
	// written at least every half of it. Must be positive. Read from
	// ANONYMOUS_CART_IDLE_TIMEOUT; a bare number is milliseconds. Zero means
	// the default of the session service.
	//
	// Defaults to 30d, session.DefaultAnonymousCartIdleTimeout (Vendure
	// keeps a guest's cart for SessionDuration).
	AnonymousCartIdleTimeout time.Duration

	// AnonymousIdleTimeout is how long an anonymous (guest) session without
	// an active order survives without a write before the session clean-up
	// removes it (Vendure hard-codes 7 days). A guest in use is written at
	// least every half of it, so only an unused one reaches it. Must be
	// positive. Read from ANONYMOUS_IDLE_TIMEOUT; a bare number is
	// milliseconds. Zero means the default of the session service.
	//
	// Defaults to 7d, session.DefaultAnonymousIdleTimeout.
	AnonymousIdleTimeout time.Duration

	// AnonymousSessionDuration is the lifetime of a new anonymous (guest)
	// session, and its sliding-expiry window while it holds no active
	// order; a guest that gets an active order, or logs in, gets
	// SessionDuration instead. Capped at SessionDuration (Vendure gives
	// guests SessionDuration). Must be positive. Read from
	// ANONYMOUS_SESSION_DURATION; a bare number is milliseconds. Zero means
	// the default of the session service.
	//
	// Defaults to 30d, session.DefaultAnonymousSessionDuration.
	AnonymousSessionDuration time.Duration

	// APQ turns automatic persisted queries (Apollo's protocol) on for both
	// APIs: a client registers a document under its SHA-256 hash by
	// sending both once, then sends the hash alone (on POST or GET). The
	// documents are kept in Redis when RedisURL is set (shared by every
	// instance; in this instance's memory while Redis fails), otherwise in
	// this instance's memory; APQCacheBytes bounds both. Off, a request
	// that sends a hash alone is answered PERSISTED_QUERY_NOT_SUPPORTED and
	// an Apollo client sends whole documents from then on. Read from APQ.
	//
	// Defaults to true.
	APQ bool

	// APQCacheBytes bounds the documents of APQ: the bytes this instance
	// keeps in memory (least recently used out first), and the bytes all
	// instances may register in Redis per APQTTL (Redis then holds at most
	// twice that; past it, documents are kept in each instance's memory).
	// Must be positive. Read from APQ_CACHE_BYTES, as bytes or a size such
	// as 8MiB. Zero means the default of persisted.
	//
	// Defaults to 8 MiB, persisted.DefaultCacheBytes.
	APQCacheBytes int64

	// APQTTL is how long Redis keeps a document registered with APQ; a
	// client whose document expired registers it again. Must be positive.
	// Read from APQ_TTL; a bare number is seconds. Zero means the default
	// of persisted.
	//
	// Defaults to 24h, persisted.DefaultTTL.
	APQTTL time.Duration

	// AuthTokenHeaderKey is the response header that carries a new or changed
	// session token when the bearer token method is in use, as Vendure's
	// authOptions.authTokenHeaderKey. It must be a valid HTTP header name.
	// Read from AUTH_TOKEN_HEADER_KEY. Zero (empty) means the default of
	// requestctx.
	//
	// Defaults to "vendure-auth-token", auth.DefaultAuthTokenHeaderKey.
	AuthTokenHeaderKey string

	// BcryptCost is the bcrypt cost (log2 of the number of rounds) used to
	// hash new passwords, from 4 to 31. Each step doubles the time a login
	// takes. Read from BCRYPT_COST.
	//
	// Defaults to 12, Vendure's salt rounds.
	BcryptCost int

	// ChannelTokenKey is the request header, or query-string key, that
	// selects a channel by its token, as Vendure's
	// apiOptions.channelTokenKey. It must be a valid HTTP header name. Read
	// from CHANNEL_TOKEN_KEY. Zero (empty) means the default of requestctx.
	//
	// Defaults to "vendure-token", auth.DefaultChannelTokenKey.
	ChannelTokenKey string

	// CleanSessionsBatchSize is how many expired sessions one DELETE of the
	// clean-sessions job removes, for the periodic job and for
	// triggerCleanSessionsJob without a batchSize; 1 to 100000 (the most
	// the session service takes). Read from CLEAN_SESSIONS_BATCH_SIZE. Zero
	// means the default of the session service and the job runner.
	//
	// Defaults to 1000, Vendure's: session.DefaultCleanSessionsBatchSize.
	CleanSessionsBatchSize int

	// CleanSessionsSchedule is when the periodic clean-sessions job runs,
	// once per run across every instance sharing the database: a
	// five-field cron expression (minute hour day month weekday) read in
	// UTC unless it starts with CRON_TZ=Zone, a descriptor such as @daily,
	// or "off". Read from CLEAN_SESSIONS_SCHEDULE. Zero (empty) means the
	// default of the job runner.
	//
	// Defaults to "0 0 * * *" (daily at 00:00, as Vendure's task),
	// jobs.DefaultSchedule.
	CleanSessionsSchedule string

	// CleanSessionsTimeBudget bounds one clean-sessions job; sessions still
	// due after it are left to a follow-up job, so a backlog never holds a
	// worker (or SQLite's one connection) for long. Must be positive. Read
	// from CLEAN_SESSIONS_TIME_BUDGET; a bare number is milliseconds. Zero
	// means the default of the job runner.
	//
	// Defaults to 1m, jobs.DefaultTimeBudget.
	CleanSessionsTimeBudget time.Duration

	// CORSOrigins are the browser origins allowed to send credentials
	// (cookies) and read credentialed responses: exact origins such as
	// https://shop.example.com (scheme, host and port, no path). "*" allows
	// every other origin to read responses, but never with credentials.
	// Empty means the local-development default: loopback origins
	// (http or https on localhost, 127.0.0.1 or [::1], any port) get
	// credentials, every other origin is answered without them. The origin
	// "null" never gets credentials. Read from CORS_ORIGINS as a
	// comma-separated list.
	//
	// Defaults to empty (loopback origins only).
	CORSOrigins []string

	// CookieDomain is the Domain attribute of the session cookie, so that
	// sibling subdomains (shop.example.com and api.example.com) share it.
	// Empty sends no Domain attribute: the cookie belongs to the API's host
	// alone. Read from COOKIE_DOMAIN.
	//
	// Defaults to "" (host-only cookie).
	CookieDomain string

	// CookieHostPrefix puts "__Host-" before CookieName ("__Host-session"),
	// the prefix that browsers accept only on a cookie that is Secure, has
	// Path=/ and no Domain attribute: no other host of the site (a sibling
	// subdomain, a plain-HTTP page on the same name) can set, overwrite or
	// shadow it. It requires CookieDomain to be empty and CookieSecure not
	// to be "false"; with "auto" the cookie is then Secure on every request,
	// plain-HTTP localhost included (Chromium and Firefox accept Secure
	// cookies from http://localhost, Safari does not). The server reads the
	// session token from the prefixed name only. Read from
	// COOKIE_HOST_PREFIX.
	//
	// Defaults to false.
	CookieHostPrefix bool

	// CookieName is the name of the session cookie when the cookie token
	// method is in use. It must be a valid cookie name (an HTTP token), and
	// may not begin with "__Host-" or "__Secure-" (set CookieHostPrefix for
	// the former). Read from COOKIE_NAME. Zero (empty) means the default of
	// requestctx.
	//
	// Defaults to "session", auth.DefaultCookieName.
	CookieName string

	// CookieSameSite is the SameSite attribute of the session cookie: "lax",
	// "strict" or "none". A storefront served from another site (another
	// registrable domain) than this server needs "none", which browsers only
	// accept on Secure cookies, so "none" cannot be combined with
	// CookieSecure "false", and with "auto" makes the cookie Secure on every
	// request. Load accepts it in any case. Read from COOKIE_SAMESITE.
	//
	// Defaults to "lax".
	CookieSameSite string

	// CookieSecure says when the session cookie carries the Secure
	// attribute, so that browsers send it over TLS only: "auto" (Secure on
	// every answer except one to a plain-HTTP request to a loopback host,
	// so that `go run .` works on http://localhost; see requestctx.SecureAuto
	// for how a request is judged), "true" (always) or "false" (never).
	// Load reads "auto" or a boolean. Read from COOKIE_SECURE.
	//
	// Defaults to "auto" (CookieSecureAuto).
	CookieSecure string

	// DatabaseURL says which database to use. Read from DATABASE_URL:
	//
	//   - empty: the SQLite file DefaultSQLitePath;
	//   - postgres://… or postgresql://…: PostgreSQL, given the URL as is;
	//   - sqlite://PATH or file:PATH: the SQLite file at PATH, relative to
	//     the working directory unless it starts with "/" (so
	//     sqlite:///var/lib/app.db is absolute). ":memory:" is an in-memory
	//     database. Query parameters are not accepted: the server sets its
	//     own SQLite options.
	//
	// Any other scheme is an error. See DatabaseDialect and SQLitePath.
	//
	// Defaults to "" (SQLite at DefaultSQLitePath).
	DatabaseURL string

	// DBQueryTimeout bounds every database call: each service call runs
	// under this deadline, PostgreSQL also gets it as statement_timeout,
	// connect timeout and pool-wait bound, and SQLite as its busy timeout.
	// A stalled or refused database fails the request with
	// INTERNAL_SERVER_ERROR within it. Must be positive. Read from
	// DB_QUERY_TIMEOUT; a bare number is milliseconds. Zero means the
	// default of database (which the services, the job runner and the
	// request middleware share).
	//
	// Defaults to 5s, database.DefaultQueryTimeout.
	DBQueryTimeout time.Duration

	// DefaultChannelToken is the token given to the default channel when it
	// is first created, as Vendure's defaultChannelToken. Empty means a
	// random token is generated then. Changing it later does not change an
	// existing channel. Read from DEFAULT_CHANNEL_TOKEN.
	//
	// Defaults to "" (a random token).
	DefaultChannelToken string

	// GuestSessions says when a guest session gets its database row:
	// "lazy" when it first holds something (an active order, another
	// channel), living in the session cache only until then; "eager" at
	// once, as Vendure. With the noop cache guests are eager (see the README,
	// "Guest sessions written lazily", for several instances on the memory
	// cache). Read from GUEST_SESSIONS.
	//
	// Defaults to "lazy".
	GuestSessions string

	// GuestAddressLimit is how many new guest sessions one client address
	// (an IPv6 /64) may get per GuestAddressWindow, per instance; a
	// request past it that needs a new session is refused with
	// TOO_MANY_REQUESTS and Retry-After (sessions it holds keep working).
	// Behind a proxy, every client has the proxy's address unless it is a
	// trusted proxy. 0 turns the limit off. Read from GUEST_ADDRESS_LIMIT.
	//
	// Defaults to 300.
	GuestAddressLimit int

	// GuestAddressWindow is GuestAddressLimit's window (fixed windows on
	// the clock). Must be positive. Read from GUEST_ADDRESS_WINDOW; a bare
	// number is milliseconds.
	//
	// Defaults to 5m.
	GuestAddressWindow time.Duration

	// GuestCacheLimit is how many new guest sessions (and renewals of
	// cache-only ones) one instance writes to the session cache in any
	// SessionCacheTTL, which bounds the guest keys it adds to Redis (n
	// instances: n times this). Past it a new guest gets a token that is
	// neither cached nor stored (it works for its request; a cart stores
	// it as usual). 0 turns the limit off. Read from GUEST_CACHE_LIMIT.
	//
	// Defaults to 100000.
	GuestCacheLimit int

	// Introspection enables GraphQL introspection queries on both APIs. Turn
	// it off in production if the schema should not be discoverable. Read
	// from INTROSPECTION.
	//
	// Defaults to true.
	Introspection bool

	// LogoutScope says which sessions `logout` ends: "session" ends only
	// the session whose token was sent, so logging out on a phone leaves
	// the laptop logged in; "all" ends every authenticated session of the
	// user on every device (Vendure's behaviour). Read from LOGOUT_SCOPE.
	//
	// Defaults to "session" (users expect logout to end this device's
	// session only: vendure#3772).
	LogoutScope string

	// OrderMergeStrategy says which lines a customer keeps when they log in
	// with a guest cart while they hold an active order of their own
	// (Vendure's orderOptions.mergeStrategy): "MergeOrdersStrategy" (the
	// existing lines, a guest line for the same variant setting its
	// quantity, the guest's other lines added), "UseGuestStrategy" (the
	// guest's lines), "UseExistingStrategy" (the existing lines) or
	// "UseGuestIfExistingEmptyStrategy" (the existing lines if there are
	// any, else the guest's). When only one of the two orders has lines,
	// that one is kept whatever the strategy. Read from
	// ORDER_MERGE_STRATEGY.
	//
	// Defaults to "MergeOrdersStrategy", as Vendure.
	OrderMergeStrategy string

	// LogFormat is how log lines are written (to stderr): "text", slog's
	// key=value lines, or "json", one JSON object a line
	// (slog.NewJSONHandler). Either way a line logged within a request
	// carries its requestId, and within a traced request (OTLPEndpoint)
	// its trace_id and span_id. Read from LOG_FORMAT.
	//
	// Defaults to "text".
	LogFormat string

	// LogLevel is the minimum level logged. Load reads it with
	// slog.Level.UnmarshalText: "debug", "info", "warn" or "error" in any
	// case, optionally with an offset such as "info+2" (between info and
	// warn) or "debug-4". Read from LOG_LEVEL.
	//
	// Defaults to slog.LevelInfo.
	LogLevel slog.Level

	// MaxQueryAliases is the most aliased fields one GraphQL document may
	// hold (after fragment expansion). Read from MAX_QUERY_ALIASES. Zero
	// means the default of gqlutil.
	//
	// Defaults to 30, gqlutil.DefaultMaxAliases.
	MaxQueryAliases int

	// MaxQueryDepth is the deepest selection one GraphQL operation may
	// nest (the root fields are depth 1). Read from MAX_QUERY_DEPTH. Zero
	// means the default of gqlutil.
	//
	// Defaults to 15, gqlutil.DefaultMaxDepth.
	MaxQueryDepth int

	// MaxQueryFields is the most fields one GraphQL operation may select,
	// counting each fragment spread as the fields it expands to. Read from
	// MAX_QUERY_FIELDS. Zero means the default of gqlutil.
	//
	// Defaults to 1000, gqlutil.DefaultMaxFields.
	MaxQueryFields int

	// MaxQueryFragments is the most fragment definitions one GraphQL
	// document may hold: GraphQL validation does work quadratic in their
	// number. Read from MAX_QUERY_FRAGMENTS. Zero means the default of
	// gqlutil.
	//
	// Defaults to 100, gqlutil.DefaultMaxFragments.
	MaxQueryFragments int

	// MaxQueryTokens is the most lexical tokens the parser reads from one
	// GraphQL document before refusing it. Read from MAX_QUERY_TOKENS. Zero
	// means the default of gqlutil.
	//
	// Defaults to 15000, gqlutil.DefaultMaxTokens.
	MaxQueryTokens int

	// OTLPEndpoint turns tracing on: the base URL of the OpenTelemetry
	// (OTLP) collector the traces are sent to, such as
	// http://localhost:4318 (OTLPProtocol http/protobuf, the path
	// /v1/traces is appended) or http://localhost:4317 (grpc); http sends
	// in the clear, https over TLS. Empty, tracing is off and none of it is
	// installed. The exporter's other settings (headers, timeout,
	// compression, sampler, OTEL_SERVICE_NAME…) are the OTEL_* variables
	// the OpenTelemetry SDK reads itself (docs/tracing.md). Read from
	// OTEL_EXPORTER_OTLP_ENDPOINT.
	//
	// Defaults to "" (tracing off).
	OTLPEndpoint string

	// OTLPProtocol is how traces are sent to OTLPEndpoint:
	// "http/protobuf" or "grpc" (the Go SDK does not send http/json).
	// Read from OTEL_EXPORTER_OTLP_PROTOCOL.
	//
	// Defaults to "http/protobuf", the OTLP specification's default.
	OTLPProtocol string
	// PersistedDocuments is a file of the documents registered on the Shop
	// API, read at start: a JSON manifest (GraphQL Code Generator's
	// persisted-documents.json, id → document, or an Apollo persisted query
	// manifest) or a .graphql file (each operation, with the fragments it
	// uses, registered under its SHA-256). Clients may then send a
	// registered document by its documentId or its
	// extensions.persistedQuery.sha256Hash. Every document must validate
	// against the Shop API's schema and the MAX_QUERY_* limits, or the
	// server does not start. Read from PERSISTED_DOCUMENTS.
	//
	// Defaults to "" (none).
	PersistedDocuments string

	// PersistedDocumentsOnly runs registered documents only on the Shop
	// API: any other document is refused (PERSISTED_QUERY_NOT_ALLOWED,
	// HTTP 400) before it is parsed, and APQ registers nothing there. It
	// needs PersistedDocuments. Introspection and the playground's own
	// queries are refused too, unless they are registered. Read from
	// PERSISTED_DOCUMENTS_ONLY.
	//
	// Defaults to false.
	PersistedDocumentsOnly bool
	// MetricsAddr is the address (host:port) of a second HTTP listener that
	// serves Prometheus metrics on /metrics, and nothing else; empty serves
	// none. Bind it to an address only the scraper reaches (e.g.
	// 127.0.0.1:9090 or a private interface): the metrics tell how the
	// server is used. Its port must differ from Port's, and 0 takes a free
	// port. Read from METRICS_ADDR.
	//
	// Defaults to "" (no metrics).
	MetricsAddr string
	// Notify is how the messages of the account flows (tokens and security
	// notices) reach customers: NOTIFIER, SMTP_URL, MAIL_FROM,
	// MAIL_TEMPLATES_DIR, VERIFY_URL, PASSWORD_RESET_URL,
	// NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOK_SECRET and NOTIFY_* (see
	// NotifyConfig).
	//
	// Defaults to the log notifier (inferred: no SMTP_URL or
	// NOTIFY_WEBHOOK_URL), which APP_ENV=production refuses unless
	// NOTIFIER=log says so; the retry settings default to the job
	// runner's (see NotifyConfig).
	Notify NotifyConfig

	// PasswordHashConcurrency is how many password hashes (bcrypt) may run
	// at once. Logins beyond it wait, within the request's deadline, so a
	// storm of logins cannot take every core from other requests. Must be
	// at least 1. Read from PASSWORD_HASH_CONCURRENCY.
	//
	// Defaults to half the CPU cores, at least 1.
	PasswordHashConcurrency int

	// PasswordResetTokenDuration is how long a password reset token (from
	// requestPasswordReset) can be used. Vendure uses its verification
	// token duration for these too; a reset token sets a password, so it
	// lives shorter here. Must be positive. Read from
	// PASSWORD_RESET_TOKEN_DURATION; a bare number is milliseconds. Zero
	// means the default of the account service.
	//
	// Defaults to 1h, account.DefaultPasswordResetTokenDuration.
	PasswordResetTokenDuration time.Duration

	// Playground serves the GraphQL playground (GraphiQL) on GET requests to
	// the API paths. Read from PLAYGROUND.
	//
	// Defaults to true.
	Playground bool

	// Port is the TCP port the HTTP server listens on, from 1 to 65535. Read
	// from PORT.
	//
	// Defaults to 3000, Vendure's port.
	Port int

	// RedisURL is the Redis server, as redis://[user:password@]host:port[/db]
	// or rediss://… for TLS, or a Sentinel or Cluster (see ParseRedisURL).
	// Empty means no Redis. When set, the session cache uses Redis unless
	// SessionCacheStrategy says otherwise. Read from REDIS_URL.
	//
	// Defaults to "" (no Redis).
	RedisURL string

	// RememberMeDuration is the cookie Max-Age given to the session cookie
	// when a client logs in with rememberMe: true. Without rememberMe the
	// cookie lasts for the browser session. As in Vendure it is independent
	// of SessionDuration. Must be positive. Read from REMEMBER_ME_DURATION;
	// a bare number is milliseconds. Zero means the default of requestctx.
	//
	// Defaults to 1y (365.25 days), auth.DefaultRememberMeDuration.
	RememberMeDuration time.Duration

	// RequestTimeout bounds one HTTP request: its context is cancelled at
	// this deadline (and when the client disconnects), which stops
	// validation, execution and database calls. Must be positive. Read from
	// REQUEST_TIMEOUT; a bare number is milliseconds.
	//
	// Defaults to 15s.
	RequestTimeout time.Duration

	// RequireVerification makes new customer accounts unusable until their
	// email address is verified, as Vendure's
	// authOptions.requireVerification. Read from REQUIRE_VERIFICATION.
	//
	// Defaults to true.
	RequireVerification bool

	// SessionCacheSize is the maximum number of sessions the in-memory
	// session cache holds; the least recently used are evicted beyond it.
	// Must be at least 1. The "memory" strategy's cache is this LRU; the
	// "redis+memory" strategy's memory tier is one too, in front of Redis
	// (an entry it evicts is read from Redis again). Read from
	// SESSION_CACHE_SIZE.
	//
	// Defaults to 100000 (~30 MB at most): lazy guests live in it, and an
	// evicted one gets a new token (with "memory").
	SessionCacheSize int

	// SessionCacheMaxBytes, when positive, also bounds the in-memory
	// session cache by the estimated bytes of its entries (see
	// sessioncache.EntryBytes: ~200 bytes a guest session, ~300 a logged-in
	// one; permission sets are shared and not counted); the least recently
	// used are evicted beyond either bound. 0 means no bound in bytes. The
	// "memory" and "redis+memory" strategies use it, as SessionCacheSize.
	// Read from SESSION_CACHE_MAX_BYTES, as bytes or a size such as 256MiB
	// or 1GB.
	//
	// Defaults to 0: SessionCacheSize already bounds the memory (100,000
	// entries are ~30 MB), and a default byte bound would silently cap a
	// SESSION_CACHE_SIZE an operator raised on purpose.
	SessionCacheMaxBytes int64

	// SessionNegativeCacheSize is how many unknown tokens each instance
	// remembers (their hashes), so a token no session has costs one
	// database read per SessionNegativeCacheTTL, however often it is sent.
	// 0 turns the negative cache off. Read from
	// SESSION_NEGATIVE_CACHE_SIZE.
	//
	// Defaults to 100000 (~10 MB at most).
	SessionNegativeCacheSize int

	// SessionNegativeCacheTTL is how long an unknown token is remembered.
	// Read from SESSION_NEGATIVE_CACHE_TTL, in seconds or as a duration.
	//
	// Defaults to 30 seconds.
	SessionNegativeCacheTTL time.Duration

	// SessionIdleTimeout ends a logged-in session that has not been used
	// for this long, even if its expiry (SessionDuration, sliding) is
	// later. Last use is recorded at most once a minute, so a session ends
	// between the timeout and two minutes after it, never before. Guests
	// have their own idle rules (AnonymousIdleTimeout,
	// AnonymousCartIdleTimeout). Read from SESSION_IDLE_TIMEOUT; 0 or unset
	// is no idle timeout, anything else must be at least 5 minutes.
	//
	// Defaults to 0 (none, as Vendure).
	SessionIdleTimeout time.Duration

	// SessionMetadataRetention is how long a session keeps the client
	// address and user agent recorded when its row was written; the
	// clean-sessions job erases them afterwards (the session itself lives
	// on). Read from SESSION_METADATA_RETENTION.
	//
	// Defaults to 90 days (session.DefaultMetadataRetention).
	SessionMetadataRetention time.Duration

	// SessionCacheStrategy is where sessions are cached: "memory" (an LRU
	// in this process: one instance only), "redis" (shared through
	// RedisURL, which must be set), "redis+memory" (Redis, with an LRU of
	// this process in front of it that every instance's writes invalidate
	// through Redis pub/sub; RedisURL must be set, and not a Cluster) or
	// "noop" (no cache: every request reads the database). Load accepts it
	// in any case. Read from SESSION_CACHE_STRATEGY; unset or empty means
	// the default.
	//
	// Defaults to "redis" when RedisURL is set, otherwise "memory" (so
	// Defaults returns "memory").
	SessionCacheStrategy string

	// SessionCacheTTL is how long a session stays in the cache before it is
	// read from the database again, as Vendure's authOptions.sessionCacheTTL.
	// Must be positive. Read from SESSION_CACHE_TTL; a bare number is
	// seconds, as in Vendure. Zero means the default of the session service.
	//
	// Defaults to 300s, auth.DefaultSessionCacheTTL.
	SessionCacheTTL time.Duration

	// SessionCacheTimeout bounds every session-cache call, and every call
	// of APQ to Redis. A call that takes longer is treated as a cache miss
	// (or a failed write), so a slow cache cannot stall requests. Must be positive. Read from
	// SESSION_CACHE_TIMEOUT; a bare number is milliseconds. Zero means the
	// default of redisstore.
	//
	// Defaults to 50ms, Vendure's fixed timeout:
	// redisstore.DefaultOperationTimeout.
	SessionCacheTimeout time.Duration

	// SessionDuration is how long a session lives without being used. Each
	// use past the halfway point extends it by this much again. Must be
	// positive. Read from SESSION_DURATION; a bare number is milliseconds,
	// as in Vendure. Zero means the default of the session service.
	//
	// Defaults to 1y (365.25 days), Vendure's '1y': auth.DefaultSessionDuration.
	SessionDuration time.Duration

	// ShutdownDrain is how long the server keeps serving after SIGTERM or
	// SIGINT with /ready answering 503 {"status":"draining"}, so that a load
	// balancer probing /ready stops sending new requests before the
	// listener closes; then the graceful shutdown (ShutdownTimeout) begins.
	// Set it to at least the balancer's probe interval times its failure
	// threshold. Must not be negative; 0 is no drain (the shutdown begins at
	// once). Read from SHUTDOWN_DRAIN; a bare number is milliseconds.
	//
	// Defaults to 5s.
	ShutdownDrain time.Duration

	// ShutdownTimeout is how long a graceful shutdown waits for in-flight
	// requests and jobs before giving up. Must be positive. Read from
	// SHUTDOWN_TIMEOUT; a bare number is milliseconds.
	//
	// Defaults to 10s.
	ShutdownTimeout time.Duration

	// SuperadminIdentifier is the identifier (login name) of the superadmin
	// created when the database is first set up. Must not be empty. Read
	// from SUPERADMIN_IDENTIFIER.
	//
	// Defaults to "superadmin", as in Vendure.
	SuperadminIdentifier string

	// SuperadminPassword is the password of that superadmin. Change it for
	// any deployment that is reachable by others. Must not be empty, and at
	// most 72 bytes long, bcrypt's limit. It only matters when the
	// superadmin is first created. Read from SUPERADMIN_PASSWORD.
	//
	// Defaults to "superadmin", as in Vendure.
	SuperadminPassword string

	// Throttle limits failed logins, unknown tokens, account mails,
	// registrations and guest checkout per client address and per
	// identifier: THROTTLE and THROTTLE_* (see ThrottleConfig).
	//
	// Defaults to on, with the defaults of the packages that apply each rule
	// (see ThrottleConfig).
	Throttle ThrottleConfig

	// TokenMethods are the ways a client may send its session token, in order
	// of preference: "cookie" (the session cookie), "bearer" (an
	// "Authorization: Bearer" header, with new tokens returned in the
	// AuthTokenHeaderKey header), or both, as Vendure's
	// authOptions.tokenMethod. Read from TOKEN_METHOD as "cookie", "bearer"
	// or a comma-separated list such as "bearer,cookie". See UsesCookie and
	// UsesBearer.
	//
	// Defaults to cookie, bearer.
	TokenMethods []string

	// TrustedProxies are the proxies (CIDRs, or single addresses) whose
	// X-Forwarded-For header names the client; from any other peer the
	// header is ignored and the client is the connection's peer. Read from
	// TRUSTED_PROXIES as a comma-separated list; ParseTrustedProxies reads
	// them.
	//
	// Defaults to empty (no proxy is trusted).
	TrustedProxies []string

	// VerificationTokenDuration is how long the token that verifies a new
	// customer account (from registerCustomerAccount or
	// refreshCustomerVerification) can be used, as Vendure's
	// authOptions.verificationTokenDuration. Must be positive. Read from
	// VERIFICATION_TOKEN_DURATION; a bare number is milliseconds, as in
	// Vendure. Zero means the default of the account service.
	//
	// Defaults to 7d, account.DefaultVerificationTokenDuration.
	VerificationTokenDuration time.Duration
}
