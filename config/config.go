package config

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole server configuration. Build one with Defaults or Load,
// change fields if needed, and check it with Validate before use.
//
// Fields are in alphabetical order. Each one is read by Load from the
// environment variable named in its comment.
type Config struct {
	// AuthTokenHeaderKey is the response header that carries a new or changed
	// session token when the bearer token method is in use, as Vendure's
	// authOptions.authTokenHeaderKey. It must be a valid HTTP header name.
	// Read from AUTH_TOKEN_HEADER_KEY.
	//
	// Defaults to "vendure-auth-token".
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
	// from CHANNEL_TOKEN_KEY.
	//
	// Defaults to "vendure-token".
	ChannelTokenKey string

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

	// CookieName is the name of the session cookie when the cookie token
	// method is in use. It must be a valid cookie name (an HTTP token). Read
	// from COOKIE_NAME.
	//
	// Defaults to "session".
	CookieName string

	// CookieSameSite is the SameSite attribute of the session cookie: "lax",
	// "strict" or "none". A storefront served from another site (another
	// registrable domain) than this server needs "none", which browsers only
	// accept on Secure cookies, so "none" requires CookieSecure. Load
	// accepts it in any case. Read from COOKIE_SAMESITE.
	//
	// Defaults to "lax".
	CookieSameSite string

	// CookieSecure sets the Secure attribute on the session cookie. Set it to
	// true when the server is reached over HTTPS (directly or behind a
	// TLS-terminating proxy) so browsers only ever send the cookie over TLS;
	// leave it false for plain-HTTP local development, where browsers would
	// otherwise drop the cookie. Read from COOKIE_SECURE.
	//
	// Defaults to false.
	CookieSecure bool

	// DatabaseURL says which database to use. Read from DATABASE_URL:
	//
	//   - empty: the SQLite file ./data/sessionserver.db;
	//   - postgres://… or postgresql://…: PostgreSQL, given the URL as is;
	//   - sqlite://PATH or file:PATH: the SQLite file at PATH, relative to
	//     the working directory unless it starts with "/" (so
	//     sqlite:///var/lib/app.db is absolute). ":memory:" is an in-memory
	//     database. Query parameters are not accepted: the server sets its
	//     own SQLite options.
	//
	// Any other scheme is an error. See DatabaseDialect and SQLitePath.
	//
	// Defaults to "" (SQLite at ./data/sessionserver.db).
	DatabaseURL string

	// DBQueryTimeout bounds every database call: each service call runs
	// under this deadline, PostgreSQL also gets it as statement_timeout,
	// connect timeout and pool-wait bound, and SQLite as its busy timeout.
	// A stalled or refused database fails the request with
	// INTERNAL_SERVER_ERROR within it. Must be positive. Read from
	// DB_QUERY_TIMEOUT; a bare number is milliseconds.
	//
	// Defaults to 5s.
	DBQueryTimeout time.Duration

	// DefaultChannelToken is the token given to the default channel when it
	// is first created, as Vendure's defaultChannelToken. Empty means a
	// random token is generated then. Changing it later does not change an
	// existing channel. Read from DEFAULT_CHANNEL_TOKEN.
	//
	// Defaults to "" (a random token).
	DefaultChannelToken string

	// Introspection enables GraphQL introspection queries on both APIs. Turn
	// it off in production if the schema should not be discoverable. Read
	// from INTROSPECTION.
	//
	// Defaults to true.
	Introspection bool

	// LogoutScope says which sessions `logout` ends: "all" ends every
	// authenticated session of the user on every device (Vendure's
	// behaviour), "session" ends only the session whose token was sent, so
	// logging out on a phone leaves the laptop logged in. Read from
	// LOGOUT_SCOPE.
	//
	// Defaults to "all", for compatibility with Vendure.
	LogoutScope string

	// LogLevel is the minimum level logged: "debug", "info", "warn" or
	// "error". Load accepts it in any case. Read from LOG_LEVEL.
	//
	// Defaults to "info".
	LogLevel string

	// MaxQueryAliases is the most aliased fields one GraphQL document may
	// hold (after fragment expansion). Read from MAX_QUERY_ALIASES.
	//
	// Defaults to 30.
	MaxQueryAliases int

	// MaxQueryDepth is the deepest selection one GraphQL operation may
	// nest (the root fields are depth 1). Read from MAX_QUERY_DEPTH.
	//
	// Defaults to 15.
	MaxQueryDepth int

	// MaxQueryFields is the most fields one GraphQL operation may select,
	// counting each fragment spread as the fields it expands to. Read from
	// MAX_QUERY_FIELDS.
	//
	// Defaults to 1000.
	MaxQueryFields int

	// MaxQueryFragments is the most fragment definitions one GraphQL
	// document may hold: GraphQL validation does work quadratic in their
	// number. Read from MAX_QUERY_FRAGMENTS.
	//
	// Defaults to 100.
	MaxQueryFragments int

	// MaxQueryTokens is the most lexical tokens the parser reads from one
	// GraphQL document before refusing it. Read from MAX_QUERY_TOKENS.
	//
	// Defaults to 15000.
	MaxQueryTokens int

	// PasswordHashConcurrency is how many password hashes (bcrypt) may run
	// at once. Logins beyond it wait, within the request's deadline, so a
	// storm of logins cannot take every core from other requests. Must be
	// at least 1. Read from PASSWORD_HASH_CONCURRENCY.
	//
	// Defaults to half the CPU cores, at least 1.
	PasswordHashConcurrency int

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
	// or rediss://… for TLS. Empty means no Redis. When set, the session
	// cache uses Redis unless SessionCacheStrategy says otherwise. Read from
	// REDIS_URL.
	//
	// Defaults to "" (no Redis).
	RedisURL string

	// RememberMeDuration is the cookie Max-Age given to the session cookie
	// when a client logs in with rememberMe: true. Without rememberMe the
	// cookie lasts for the browser session. As in Vendure it is independent
	// of SessionDuration. Must be positive. Read from REMEMBER_ME_DURATION;
	// a bare number is milliseconds.
	//
	// Defaults to 1y (365.25 days).
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
	// Must be at least 1. Only the "memory" strategy uses it. Read from
	// SESSION_CACHE_SIZE.
	//
	// Defaults to 10000.
	SessionCacheSize int

	// SessionCacheStrategy is where sessions are cached: "memory" (an LRU
	// in this process), "redis" (shared through RedisURL, which must be set)
	// or "noop" (no cache: every request reads the database). Load accepts
	// it in any case. Read from SESSION_CACHE_STRATEGY; unset or empty means
	// the default.
	//
	// Defaults to "redis" when RedisURL is set, otherwise "memory" (so
	// Defaults returns "memory").
	SessionCacheStrategy string

	// SessionCacheTTL is how long a session stays in the cache before it is
	// read from the database again, as Vendure's authOptions.sessionCacheTTL.
	// Must be positive. Read from SESSION_CACHE_TTL; a bare number is
	// seconds, as in Vendure.
	//
	// Defaults to 300s.
	SessionCacheTTL time.Duration

	// SessionCacheTimeout bounds every session-cache call. A call that takes
	// longer is treated as a cache miss (or a failed write), so a slow cache
	// cannot stall requests. Must be positive. Read from
	// SESSION_CACHE_TIMEOUT; a bare number is milliseconds.
	//
	// Defaults to 50ms, Vendure's fixed timeout.
	SessionCacheTimeout time.Duration

	// SessionDuration is how long a session lives without being used. Each
	// use past the halfway point extends it by this much again. Must be
	// positive. Read from SESSION_DURATION; a bare number is milliseconds,
	// as in Vendure.
	//
	// Defaults to 1y (365.25 days), Vendure's '1y'.
	SessionDuration time.Duration

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
}

// Values of Config.DatabaseDialect.
const (
	dialectPostgres = "postgres"
	dialectSQLite   = "sqlite"
)

// defaultSQLitePath is the database used when DatabaseURL is empty.
const defaultSQLitePath = "./data/sessionserver.db"

// maxPasswordBytes is bcrypt's input limit: it rejects longer passwords.
const maxPasswordBytes = 72

// Hints shared by Load's parse errors and Validate's range errors.
const (
	bcryptCostHint = "use 4..31"
	booleanHint    = "use true/false, 1/0, yes/no or on/off"
	databaseHint   = "use postgres://…, postgresql://…, sqlite://PATH or file:PATH, or leave it empty for " + defaultSQLitePath
	portHint       = "use 1..65535"
	cacheSizeHint  = "use 1 or more"
	limitHint      = "use 1 or more"
)

// Defaults returns the configuration used when no environment variable is
// set. It is valid as it stands.
func Defaults() Config {
	return Config{
		AuthTokenHeaderKey:      "vendure-auth-token",
		BcryptCost:              12,
		ChannelTokenKey:         "vendure-token",
		CORSOrigins:             nil,
		CookieDomain:            "",
		CookieName:              "session",
		CookieSameSite:          "lax",
		CookieSecure:            false,
		DatabaseURL:             "",
		DBQueryTimeout:          5 * time.Second,
		DefaultChannelToken:     "",
		Introspection:           true,
		LogLevel:                "info",
		LogoutScope:             "all",
		MaxQueryAliases:         30,
		MaxQueryDepth:           15,
		MaxQueryFields:          1000,
		MaxQueryFragments:       100,
		MaxQueryTokens:          15000,
		PasswordHashConcurrency: max(1, runtime.NumCPU()/2),
		Playground:              true,
		Port:                    3000,
		RedisURL:                "",
		RememberMeDuration:      year,
		RequestTimeout:          15 * time.Second,
		RequireVerification:     true,
		SessionCacheSize:        10000,
		SessionCacheStrategy:    "memory",
		SessionCacheTTL:         300 * time.Second,
		SessionCacheTimeout:     50 * time.Millisecond,
		SessionDuration:         year,
		ShutdownTimeout:         10 * time.Second,
		SuperadminIdentifier:    "superadmin",
		SuperadminPassword:      "superadmin",
		TokenMethods:            []string{"cookie", "bearer"},
	}
}

// Load returns Defaults overlaid with the environment variables found by
// lookup, then checks the result with Validate. Pass os.LookupEnv in
// production; tests pass a map's lookup. A nil lookup finds nothing.
//
// A variable that is set is used even when empty, so a missing secret in
// SUPERADMIN_PASSWORD=${SECRET} is an error rather than a silent default. For
// DATABASE_URL, REDIS_URL, DEFAULT_CHANNEL_TOKEN and SESSION_CACHE_STRATEGY
// the empty string has the meaning given in the field's comment. Numbers,
// booleans, durations, URLs and the words of LOG_LEVEL,
// SESSION_CACHE_STRATEGY and TOKEN_METHOD may have white space around them;
// names, tokens and the superadmin credentials are taken exactly as given.
//
// Booleans are true/false, 1/0, yes/no or on/off, in any case. Durations are
// read by ParseDuration. Each bad value gives an error that names the
// variable, the value and what is accepted; all of them are returned together,
// joined with errors.Join. On error the returned Config is the zero value.
func Load(lookup func(string) (string, bool)) (Config, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	c := Defaults()
	r := envReader{lookup: lookup}

	r.string("AUTH_TOKEN_HEADER_KEY", &c.AuthTokenHeaderKey)
	r.int("BCRYPT_COST", bcryptCostHint, &c.BcryptCost)
	r.string("CHANNEL_TOKEN_KEY", &c.ChannelTokenKey)
	if v, ok := r.lookup("CORS_ORIGINS"); ok {
		c.CORSOrigins = nil
		for o := range strings.SplitSeq(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	r.string("COOKIE_DOMAIN", &c.CookieDomain)
	r.string("COOKIE_NAME", &c.CookieName)
	r.word("COOKIE_SAMESITE", &c.CookieSameSite)
	r.bool("COOKIE_SECURE", &c.CookieSecure)
	if v, ok := r.lookup("DATABASE_URL"); ok {
		c.DatabaseURL = strings.TrimSpace(v)
	}
	r.duration("DB_QUERY_TIMEOUT", time.Millisecond, &c.DBQueryTimeout)
	r.string("DEFAULT_CHANNEL_TOKEN", &c.DefaultChannelToken)
	r.bool("INTROSPECTION", &c.Introspection)
	r.word("LOG_LEVEL", &c.LogLevel)
	r.word("LOGOUT_SCOPE", &c.LogoutScope)
	r.int("MAX_QUERY_ALIASES", limitHint, &c.MaxQueryAliases)
	r.int("MAX_QUERY_DEPTH", limitHint, &c.MaxQueryDepth)
	r.int("MAX_QUERY_FIELDS", limitHint, &c.MaxQueryFields)
	r.int("MAX_QUERY_FRAGMENTS", limitHint, &c.MaxQueryFragments)
	r.int("MAX_QUERY_TOKENS", limitHint, &c.MaxQueryTokens)
	r.int("PASSWORD_HASH_CONCURRENCY", limitHint, &c.PasswordHashConcurrency)
	r.bool("PLAYGROUND", &c.Playground)
	r.int("PORT", portHint, &c.Port)
	if v, ok := r.lookup("REDIS_URL"); ok {
		c.RedisURL = strings.TrimSpace(v)
	}
	r.duration("REMEMBER_ME_DURATION", time.Millisecond, &c.RememberMeDuration)
	r.duration("REQUEST_TIMEOUT", time.Millisecond, &c.RequestTimeout)
	r.bool("REQUIRE_VERIFICATION", &c.RequireVerification)
	r.int("SESSION_CACHE_SIZE", cacheSizeHint, &c.SessionCacheSize)
	if c.RedisURL != "" {
		c.SessionCacheStrategy = "redis"
	}
	if v, ok := r.lookup("SESSION_CACHE_STRATEGY"); ok && strings.TrimSpace(v) != "" {
		c.SessionCacheStrategy = strings.ToLower(strings.TrimSpace(v))
	}
	r.duration("SESSION_CACHE_TTL", time.Second, &c.SessionCacheTTL)
	r.duration("SESSION_CACHE_TIMEOUT", time.Millisecond, &c.SessionCacheTimeout)
	r.duration("SESSION_DURATION", time.Millisecond, &c.SessionDuration)
	r.duration("SHUTDOWN_TIMEOUT", time.Millisecond, &c.ShutdownTimeout)
	r.string("SUPERADMIN_IDENTIFIER", &c.SuperadminIdentifier)
	r.string("SUPERADMIN_PASSWORD", &c.SuperadminPassword)
	if v, ok := r.lookup("TOKEN_METHOD"); ok {
		c.TokenMethods = nil
		for method := range strings.SplitSeq(v, ",") {
			c.TokenMethods = append(c.TokenMethods, strings.ToLower(strings.TrimSpace(method)))
		}
	}

	// A value that failed to parse kept its (valid) default, so Validate does
	// not report it a second time.
	if errs := append(r.errs, c.problems()...); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// Validate checks every field and reports every problem at once, joined with
// errors.Join, or returns nil. Each problem names the environment variable
// that sets the field. Secrets (the superadmin password, URL passwords) are
// never included in the message.
func (c Config) Validate() error {
	return errors.Join(c.problems()...)
}

func (c Config) problems() []error {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, errors.New(name+": "+fmt.Sprintf(format, args...)))
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			fail(name, "%s is not positive (use a duration greater than zero, such as 30m, 7d, 1y)", FormatDuration(d))
		}
	}

	if !isToken(c.AuthTokenHeaderKey) {
		fail("AUTH_TOKEN_HEADER_KEY", "%q is not a valid HTTP header name (use letters, digits and !#$%%&'*+-.^_`|~)", c.AuthTokenHeaderKey)
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		fail("BCRYPT_COST", "%d is out of range (%s)", c.BcryptCost, bcryptCostHint)
	}
	if !isToken(c.ChannelTokenKey) {
		fail("CHANNEL_TOKEN_KEY", "%q is not a valid HTTP header name (use letters, digits and !#$%%&'*+-.^_`|~)", c.ChannelTokenKey)
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !IsOrigin(o) {
			fail("CORS_ORIGINS", "%q is not an origin (use scheme://host[:port] such as https://shop.example.com, without a path, or *)", o)
		}
	}
	if strings.ContainsAny(c.CookieDomain, " ;,\t\"") {
		fail("COOKIE_DOMAIN", "%q is not a domain (use a host name such as example.com, or leave it empty)", c.CookieDomain)
	}
	if !isToken(c.CookieName) {
		fail("COOKIE_NAME", "%q is not a valid cookie name (use letters, digits and !#$%%&'*+-.^_`|~)", c.CookieName)
	}
	switch c.CookieSameSite {
	case "lax", "strict":
	case "none":
		if !c.CookieSecure {
			fail("COOKIE_SAMESITE", `"none" needs COOKIE_SECURE=true (browsers drop SameSite=None cookies that are not Secure; serve over HTTPS and set COOKIE_SECURE=true, or use lax)`)
		}
	default:
		fail("COOKIE_SAMESITE", "%q is not a SameSite mode (use lax, strict or none)", c.CookieSameSite)
	}
	if _, _, err := parseDatabaseURL(c.DatabaseURL); err != nil {
		fail("DATABASE_URL", "%q %v (%s)", redactURL(c.DatabaseURL), err, databaseHint)
	}
	positive("DB_QUERY_TIMEOUT", c.DBQueryTimeout)
	atLeastOne := func(name string, n int) {
		if n < 1 {
			fail(name, "%d is too small (%s)", n, limitHint)
		}
	}
	atLeastOne("MAX_QUERY_ALIASES", c.MaxQueryAliases)
	atLeastOne("MAX_QUERY_DEPTH", c.MaxQueryDepth)
	atLeastOne("MAX_QUERY_FIELDS", c.MaxQueryFields)
	atLeastOne("MAX_QUERY_FRAGMENTS", c.MaxQueryFragments)
	atLeastOne("MAX_QUERY_TOKENS", c.MaxQueryTokens)
	atLeastOne("PASSWORD_HASH_CONCURRENCY", c.PasswordHashConcurrency)
	if !slices.Contains([]string{"all", "session"}, c.LogoutScope) {
		fail("LOGOUT_SCOPE", "%q is not a logout scope (use all or session)", c.LogoutScope)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		fail("LOG_LEVEL", "%q is not a log level (use debug, info, warn or error)", c.LogLevel)
	}
	if c.Port < 1 || c.Port > 65535 {
		fail("PORT", "%d is out of range (%s)", c.Port, portHint)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			fail("REDIS_URL", "%q is not a Redis URL (use redis://[user:password@]host:port[/db], rediss://… for TLS, or leave it empty for no Redis)", redactURL(c.RedisURL))
		}
	}
	positive("REMEMBER_ME_DURATION", c.RememberMeDuration)
	positive("REQUEST_TIMEOUT", c.RequestTimeout)
	if c.SessionCacheSize < 1 {
		fail("SESSION_CACHE_SIZE", "%d is too small (%s)", c.SessionCacheSize, cacheSizeHint)
	}
	switch c.SessionCacheStrategy {
	case "memory", "noop":
	case "redis":
		if c.RedisURL == "" {
			fail("SESSION_CACHE_STRATEGY", `"redis" needs REDIS_URL (set REDIS_URL, or use memory or noop)`)
		}
	default:
		fail("SESSION_CACHE_STRATEGY", "%q is not a cache strategy (use memory, redis or noop)", c.SessionCacheStrategy)
	}
	positive("SESSION_CACHE_TTL", c.SessionCacheTTL)
	positive("SESSION_CACHE_TIMEOUT", c.SessionCacheTimeout)
	positive("SESSION_DURATION", c.SessionDuration)
	positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	if c.SuperadminIdentifier == "" {
		fail("SUPERADMIN_IDENTIFIER", "is empty (set the superadmin's login name)")
	}
	switch n := len(c.SuperadminPassword); {
	case n == 0:
		fail("SUPERADMIN_PASSWORD", "is empty (set the superadmin's password)")
	case n > maxPasswordBytes:
		// The value is a secret: say how long it is, never what it is.
		fail("SUPERADMIN_PASSWORD", "is %d bytes long (use at most %d bytes, bcrypt's limit)", n, maxPasswordBytes)
	}
	if !validTokenMethods(c.TokenMethods) {
		fail("TOKEN_METHOD", "%q is not a token method (use cookie, bearer, or both as cookie,bearer or bearer,cookie)", strings.Join(c.TokenMethods, ","))
	}
	return errs
}

// DatabaseDialect returns "sqlite" or "postgres", the kind of database
// DatabaseURL names, or "" when DatabaseURL is not valid (Validate reports
// why).
func (c Config) DatabaseDialect() string {
	dialect, _, err := parseDatabaseURL(c.DatabaseURL)
	if err != nil {
		return ""
	}
	return dialect
}

// SQLitePath returns the SQLite file DatabaseURL names: "./data/sessionserver.db"
// when it is empty, PATH for sqlite://PATH or file:PATH. It returns "" when
// DatabaseDialect is not "sqlite".
func (c Config) SQLitePath() string {
	dialect, path, err := parseDatabaseURL(c.DatabaseURL)
	if err != nil || dialect != dialectSQLite {
		return ""
	}
	return path
}

// IsOrigin reports whether s is a serialized browser origin:
// http or https, a host, an optional port, and nothing else (no path,
// query, fragment or user info).
func IsOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return false
	}
	return u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "#")
}

// UsesBearer reports whether clients may send the session token as a bearer
// token.
func (c Config) UsesBearer() bool { return slices.Contains(c.TokenMethods, "bearer") }

// UsesCookie reports whether clients may send the session token in a cookie.
func (c Config) UsesCookie() bool { return slices.Contains(c.TokenMethods, "cookie") }

// parseDatabaseURL returns the dialect of a DATABASE_URL and, for SQLite, the
// file path. Errors are phrases that follow the quoted URL.
func parseDatabaseURL(raw string) (dialect, sqlitePath string, err error) {
	if raw == "" {
		return dialectSQLite, defaultSQLitePath, nil
	}
	scheme, rest, _ := strings.Cut(raw, ":")
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return "", "", errors.New("is not a PostgreSQL URL")
		}
		if _, err := url.Parse(raw); err != nil {
			return "", "", errors.New("is not a valid URL")
		}
		return dialectPostgres, "", nil
	case "sqlite":
		path, ok := strings.CutPrefix(rest, "//")
		if !ok {
			return "", "", errors.New("is not a SQLite URL")
		}
		sqlitePath = path
	case "file":
		sqlitePath = rest
		if strings.HasPrefix(rest, "//") { // file:///abs/path or file://localhost/abs/path
			u, err := url.Parse(raw)
			if err != nil || (u.Host != "" && u.Host != "localhost") {
				return "", "", errors.New("is not a local file URL")
			}
			sqlitePath = u.Path
		}
	default:
		return "", "", errors.New("has an unsupported scheme")
	}
	if sqlitePath == "" {
		return "", "", errors.New("has no file path")
	}
	if strings.Contains(sqlitePath, "?") {
		return "", "", errors.New("has query parameters, which are not supported")
	}
	return dialectSQLite, sqlitePath, nil
}

// redactURL hides the password in a URL so it can go in an error message.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			return u.Redacted()
		}
		return raw // Redacted would also normalise the URL ("sqlite://" to "sqlite:")
	}
	// Unparsable: hide everything between the scheme and the last "@".
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		prefix := ""
		if i := strings.Index(raw, "://"); i >= 0 && i < at {
			prefix = raw[:i+3]
		}
		return prefix + "xxxxx" + raw[at:]
	}
	return raw
}

// validTokenMethods reports whether methods is "cookie", "bearer", or both in
// either order.
func validTokenMethods(methods []string) bool {
	switch len(methods) {
	case 1:
		return methods[0] == "cookie" || methods[0] == "bearer"
	case 2:
		return slices.Contains(methods, "cookie") && slices.Contains(methods, "bearer")
	default:
		return false
	}
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2), the
// grammar of header names and cookie names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || isDigit(b) || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

// envReader reads environment variables into a Config, collecting an error
// for each value that does not parse.
type envReader struct {
	errs   []error
	lookup func(string) (string, bool)
}

func (r *envReader) bool(name string, dst *bool) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		*dst = true
	case "false", "0", "no", "off":
		*dst = false
	default:
		r.fail(name, "%q is not a boolean (%s)", v, booleanHint)
	}
}

func (r *envReader) duration(name string, bareUnit time.Duration, dst *time.Duration) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	d, err := ParseDuration(v, bareUnit)
	if err != nil {
		r.fail(name, "%v (%s)", err, durationHint(bareUnit))
		return
	}
	*dst = d
}

func (r *envReader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, errors.New(name+": "+fmt.Sprintf(format, args...)))
}

func (r *envReader) int(name, hint string, dst *int) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.fail(name, "%q is not a whole number (%s)", v, hint)
		return
	}
	*dst = n
}

func (r *envReader) string(name string, dst *string) {
	if v, ok := r.lookup(name); ok {
		*dst = v
	}
}

// word reads a case-insensitive keyword, stored in lower case.
func (r *envReader) word(name string, dst *string) {
	if v, ok := r.lookup(name); ok {
		*dst = strings.ToLower(strings.TrimSpace(v))
	}
}
