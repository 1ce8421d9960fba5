package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Limits of the values Validate checks that are facts about the packages
// that use them, which config does not import; tests outside config hold
// each to its source.
const (
	// maxPasswordBytes is bcrypt's input limit: it rejects longer
	// passwords (password.MaxLength).
	maxPasswordBytes = 72
	// maxCleanSessionsBatchSize is the largest batch the session service
	// deletes in one statement (session.MaxCleanSessionsBatchSize).
	maxCleanSessionsBatchSize = 100_000
)

// bcryptCostHint is the range bcrypt accepts, which password.NewBcrypt
// enforces too.
var bcryptCostHint = fmt.Sprintf("use %d..%d", bcrypt.MinCost, bcrypt.MaxCost)

// The clean-sessions job's hints.
var (
	batchSizeHint = fmt.Sprintf("use 1..%d", maxCleanSessionsBatchSize)
	scheduleHint  = `use five cron fields such as "0 0 * * *" (daily at 00:00 UTC), optionally after CRON_TZ=Zone, a descriptor such as @daily or @every 6h, or off`
)

// Hints shared by Load's parse errors and Validate's range errors.
const (
	booleanHint   = "use true/false, 1/0, yes/no or on/off"
	redisHint     = "use redis://[user:password@]host:port[/db], rediss://… for TLS, or leave it empty for no Redis"
	databaseHint  = "use postgres://…, postgresql://…, sqlite://PATH or file:PATH, or leave it empty for " + DefaultSQLitePath
	logLevelHint  = "use debug, info, warn or error, optionally with an offset such as info+2"
	otlpHint      = "use the collector's base URL, such as http://localhost:4318 (https for TLS), or leave it empty for no tracing"
	portHint      = "use 1..65535"
	cacheSizeHint = "use 1 or more"
	// negativeSizeHint: 0 turns the negative cache off.
	negativeSizeHint = "use 0 (off) or more"
	cacheBytesHint   = "use bytes or a size such as 256MiB or 1GB, or 0 for no bound in bytes"
	apqBytesHint     = "use bytes or a size such as 8MiB, more than 0"
	limitHint        = "use 1 or more"
	guestLimitHint   = "use 0 (no limit) or more"
	metricsAddrHint  = "use host:port such as 127.0.0.1:9090, or leave it empty for no metrics"
)

// Validate checks every field and reports every problem at once, joined with
// errors.Join, or returns nil. Each problem names the environment variable
// that sets the field. Secrets (the superadmin password, URL passwords) are
// never included in the message. A field whose default belongs to the
// package that uses it may be zero (see Config).
func (c Config) Validate() error {
	return errors.Join(c.problems(func(string) bool { return false })...)
}

// problems checks every field. explicit reports whether a variable was
// read from the environment: Load's, so that a variable set to zero or
// empty is a mistake even where a zero field means its consumer's default.
func (c Config) problems(explicit func(name string) bool) []error {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, errors.New(name+": "+fmt.Sprintf(format, args...)))
	}
	// given reports whether a field whose zero value means its consumer's
	// default holds a value to check: a non-zero one, or a zero one its
	// variable set.
	given := func(name string, isZero bool) bool { return !isZero || explicit(name) }
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			fail(name, "%s is not positive (use a duration greater than zero, such as 30m, 7d, 1y)", FormatDuration(d))
		}
	}
	// positiveOrDefault is positive for a field its consumer defaults.
	positiveOrDefault := func(name string, d time.Duration) {
		if given(name, d == 0) {
			positive(name, d)
		}
	}
	headerName := func(name, value string) {
		if given(name, value == "") && !isToken(value) {
			fail(name, "%q is not a valid HTTP header name (use letters, digits and !#$%%&'*+-.^_`|~)", value)
		}
	}

	positiveOrDefault("ANONYMOUS_CART_IDLE_TIMEOUT", c.AnonymousCartIdleTimeout)
	positiveOrDefault("ANONYMOUS_IDLE_TIMEOUT", c.AnonymousIdleTimeout)
	positiveOrDefault("ANONYMOUS_SESSION_DURATION", c.AnonymousSessionDuration)
	if given("APQ_CACHE_BYTES", c.APQCacheBytes == 0) && c.APQCacheBytes <= 0 {
		fail("APQ_CACHE_BYTES", "%d is not positive (%s)", c.APQCacheBytes, apqBytesHint)
	}
	positiveOrDefault("APQ_TTL", c.APQTTL)
	for _, p := range []struct {
		only, path string
		on         bool
		file       string
	}{
		{"PERSISTED_DOCUMENTS_ONLY", "PERSISTED_DOCUMENTS", c.PersistedDocumentsOnly, c.PersistedDocuments},
		{"ADMIN_PERSISTED_DOCUMENTS_ONLY", "ADMIN_PERSISTED_DOCUMENTS", c.AdminPersistedDocumentsOnly, c.AdminPersistedDocuments},
	} {
		if p.on && strings.TrimSpace(p.file) == "" {
			fail(p.only, "needs %s (the file of the documents that may run)", p.path)
		}
	}
	headerName("AUTH_TOKEN_HEADER_KEY", c.AuthTokenHeaderKey)
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		fail("BCRYPT_COST", "%d is out of range (%s)", c.BcryptCost, bcryptCostHint)
	}
	headerName("CHANNEL_TOKEN_KEY", c.ChannelTokenKey)
	if given("CLEAN_SESSIONS_BATCH_SIZE", c.CleanSessionsBatchSize == 0) &&
		(c.CleanSessionsBatchSize < 1 || c.CleanSessionsBatchSize > maxCleanSessionsBatchSize) {
		fail("CLEAN_SESSIONS_BATCH_SIZE", "%d is out of range (%s)", c.CleanSessionsBatchSize, batchSizeHint)
	}
	if given("CLEAN_SESSIONS_SCHEDULE", c.CleanSessionsSchedule == "") {
		if err := checkSchedule(c.CleanSessionsSchedule); err != nil {
			fail("CLEAN_SESSIONS_SCHEDULE", "%v (%s)", err, scheduleHint)
		}
	}
	positiveOrDefault("CLEAN_SESSIONS_TIME_BUDGET", c.CleanSessionsTimeBudget)
	for _, o := range c.CORSOrigins {
		if o != "*" && !IsOrigin(o) {
			fail("CORS_ORIGINS", "%q is not an origin (use scheme://host[:port] such as https://shop.example.com, without a path, or *)", o)
		}
	}
	if strings.ContainsAny(c.CookieDomain, " ;,\t\"") {
		fail("COOKIE_DOMAIN", "%q is not a domain (use a host name such as example.com, or leave it empty)", c.CookieDomain)
	}
	if c.CookieHostPrefix {
		// Browsers drop a __Host- cookie that is not Secure or has a Domain
		// (its Path is always /): refused here rather than by every browser.
		if c.CookieDomain != "" {
			fail("COOKIE_HOST_PREFIX", "cannot be used with COOKIE_DOMAIN=%q (a __Host- cookie has no Domain attribute; leave COOKIE_DOMAIN empty, or turn COOKIE_HOST_PREFIX off)", c.CookieDomain)
		}
		if c.CookieSecure == CookieSecureFalse {
			fail("COOKIE_HOST_PREFIX", "cannot be used with COOKIE_SECURE=false (a __Host- cookie must be Secure; use COOKIE_SECURE=auto or true)")
		}
	}
	if given("COOKIE_NAME", c.CookieName == "") && !isToken(c.CookieName) {
		fail("COOKIE_NAME", "%q is not a valid cookie name (use letters, digits and !#$%%&'*+-.^_`|~)", c.CookieName)
	} else if hasCookiePrefix(c.CookieName) {
		fail("COOKIE_NAME", "%q begins with a prefix browsers reserve (for __Host-, set COOKIE_HOST_PREFIX=true with a name without it)", c.CookieName)
	}
	switch c.CookieSameSite {
	case "lax", "strict":
	case "none":
		if c.CookieSecure == CookieSecureFalse {
			fail("COOKIE_SAMESITE", `"none" cannot be used with COOKIE_SECURE=false (browsers drop SameSite=None cookies that are not Secure; serve over HTTPS with COOKIE_SECURE=auto or true, or use lax)`)
		}
	default:
		fail("COOKIE_SAMESITE", "%q is not a SameSite mode (use lax, strict or none)", c.CookieSameSite)
	}
	if !slices.Contains([]string{CookieSecureAuto, CookieSecureTrue, CookieSecureFalse}, c.CookieSecure) {
		fail("COOKIE_SECURE", "%q is neither auto nor a boolean (use auto, true or false)", c.CookieSecure)
	}
	if dialect, _, err := parseDatabaseURL(c.DatabaseURL); err != nil {
		fail("DATABASE_URL", "%q %v (%s)", redact(c.DatabaseURL), err, databaseHint)
	} else if dialect == Postgres {
		for _, err := range postgresURLProblems(c.DatabaseURL) {
			fail("DATABASE_URL", "%q %v", redact(c.DatabaseURL), err)
		}
	}
	positiveOrDefault("DB_QUERY_TIMEOUT", c.DBQueryTimeout)
	atLeastOne := func(name string, n int) {
		if n < 1 {
			fail(name, "%d is too small (%s)", n, limitHint)
		}
	}
	atLeastOneOrDefault := func(name string, n int) {
		if given(name, n == 0) {
			atLeastOne(name, n)
		}
	}
	atLeastOneOrDefault("MAX_QUERY_ALIASES", c.MaxQueryAliases)
	atLeastOneOrDefault("MAX_QUERY_DEPTH", c.MaxQueryDepth)
	atLeastOneOrDefault("MAX_QUERY_FIELDS", c.MaxQueryFields)
	atLeastOneOrDefault("MAX_QUERY_FRAGMENTS", c.MaxQueryFragments)
	atLeastOneOrDefault("MAX_QUERY_TOKENS", c.MaxQueryTokens)
	if problem := c.metricsAddrProblem(); problem != "" {
		fail("METRICS_ADDR", "%q %s", c.MetricsAddr, problem)
	}
	atLeastOne("PASSWORD_HASH_CONCURRENCY", c.PasswordHashConcurrency)
	if !slices.Contains([]string{GuestLazy, GuestEager}, c.GuestSessions) {
		fail("GUEST_SESSIONS", "%q is not a guest-session mode (use lazy or eager)", c.GuestSessions)
	}
	if c.GuestAddressLimit < 0 {
		fail("GUEST_ADDRESS_LIMIT", "%d is negative (%s)", c.GuestAddressLimit, guestLimitHint)
	}
	positive("GUEST_ADDRESS_WINDOW", c.GuestAddressWindow)
	if c.GuestCacheLimit < 0 {
		fail("GUEST_CACHE_LIMIT", "%d is negative (%s)", c.GuestCacheLimit, guestLimitHint)
	}
	if !slices.Contains([]string{EnvDevelopment, EnvProduction}, c.AppEnv) {
		fail("APP_ENV", "%q is not an environment (use development or production)", c.AppEnv)
	}
	if !slices.Contains([]string{LogText, LogJSON}, c.LogFormat) {
		fail("LOG_FORMAT", "%q is not a log format (use text or json)", c.LogFormat)
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			fail("OTEL_EXPORTER_OTLP_ENDPOINT", "%q is not a collector URL (%s)", redact(c.OTLPEndpoint), otlpHint)
		}
	}
	if !slices.Contains([]string{OTLPHTTP, OTLPGRPC}, c.OTLPProtocol) {
		fail("OTEL_EXPORTER_OTLP_PROTOCOL", "%q is not a protocol this server sends (use http/protobuf or grpc)", c.OTLPProtocol)
	}
	if !slices.Contains([]string{LogoutAll, LogoutSession}, c.LogoutScope) {
		fail("LOGOUT_SCOPE", "%q is not a logout scope (use all or session)", c.LogoutScope)
	}
	if !slices.Contains([]string{MergeOrdersStrategy, UseGuestStrategy, UseExistingStrategy, UseGuestIfExistingEmptyStrategy}, c.OrderMergeStrategy) {
		fail("ORDER_MERGE_STRATEGY", "%q is not a merge strategy (use MergeOrdersStrategy, UseGuestStrategy, UseExistingStrategy or UseGuestIfExistingEmptyStrategy)", c.OrderMergeStrategy)
	}
	positiveOrDefault("PASSWORD_RESET_TOKEN_DURATION", c.PasswordResetTokenDuration)
	if c.Port < 1 || c.Port > 65535 {
		fail("PORT", "%d is out of range (%s)", c.Port, portHint)
	}
	if c.RedisURL != "" {
		// The parser the server connects with: its rules, go-redis's
		// parameters and their values, all checked now.
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			fail("REDIS_URL", "%q is not a Redis URL (%s)", redact(c.RedisURL), redisHint)
		} else if _, err := ParseRedisURL(c.RedisURL); err != nil {
			fail("REDIS_URL", "%q cannot be used: %v (%s)", redact(c.RedisURL), strings.TrimPrefix(err.Error(), "redis URL: "), redisHint)
		}
	}
	positiveOrDefault("REMEMBER_ME_DURATION", c.RememberMeDuration)
	positive("REQUEST_TIMEOUT", c.RequestTimeout)
	if c.SessionCacheSize < 1 {
		fail("SESSION_CACHE_SIZE", "%d is too small (%s)", c.SessionCacheSize, cacheSizeHint)
	}
	if c.SessionNegativeCacheSize < 0 {
		fail("SESSION_NEGATIVE_CACHE_SIZE", "%d is negative (%s)", c.SessionNegativeCacheSize, negativeSizeHint)
	}
	positive("SESSION_NEGATIVE_CACHE_TTL", c.SessionNegativeCacheTTL)
	if c.SessionIdleTimeout != 0 && c.SessionIdleTimeout < MinSessionIdleTimeout {
		fail("SESSION_IDLE_TIMEOUT", "%s is too short (use 0 for none, or at least %s: last use is recorded once a minute)",
			FormatDuration(c.SessionIdleTimeout), FormatDuration(MinSessionIdleTimeout))
	}
	positiveOrDefault("SESSION_METADATA_RETENTION", c.SessionMetadataRetention)
	if c.SessionCacheMaxBytes < 0 {
		fail("SESSION_CACHE_MAX_BYTES", "%d is negative (%s)", c.SessionCacheMaxBytes, cacheBytesHint)
	}
	switch c.SessionCacheStrategy {
	case CacheMemory, CacheNoop:
	case CacheRedis, CacheRedisMemory:
		if c.RedisURL == "" {
			fail("SESSION_CACHE_STRATEGY", "%q needs REDIS_URL (set REDIS_URL, or use memory or noop)", c.SessionCacheStrategy)
		} else if o, err := ParseRedisURL(c.RedisURL); err == nil && o.Cluster != nil && c.SessionCacheStrategy == CacheRedisMemory {
			// Announcements made on other nodes reach the memory tier over
			// the cluster bus, which the tier's markers do not confirm.
			fail("SESSION_CACHE_STRATEGY", `"redis+memory" does not work with a Redis Cluster, which REDIS_URL is (use redis)`)
		}
	default:
		fail("SESSION_CACHE_STRATEGY", "%q is not a cache strategy (use memory, redis, redis+memory or noop)", c.SessionCacheStrategy)
	}
	positiveOrDefault("SESSION_CACHE_TTL", c.SessionCacheTTL)
	positiveOrDefault("SESSION_CACHE_TIMEOUT", c.SessionCacheTimeout)
	positiveOrDefault("SESSION_DURATION", c.SessionDuration)
	if c.ShutdownDrain < 0 {
		fail("SHUTDOWN_DRAIN", "%s is negative (use 0 for no drain, or a duration such as 5s)", FormatDuration(c.ShutdownDrain))
	}
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
	errs = append(errs, c.notifyProblems(given)...)
	errs = append(errs, c.throttleProblems(given)...)
	positiveOrDefault("VERIFICATION_TOKEN_DURATION", c.VerificationTokenDuration)
	return errs
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

// hasCookiePrefix reports whether name begins with "__Host-" or
// "__Secure-", in any case (browsers compare them without case).
func hasCookiePrefix(name string) bool {
	for _, p := range []string{HostCookiePrefix, "__Secure-"} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// validTokenMethods reports whether methods is "cookie", "bearer", or both in
// either order.
func validTokenMethods(methods []string) bool {
	switch len(methods) {
	case 1:
		return methods[0] == TokenCookie || methods[0] == TokenBearer
	case 2:
		return slices.Contains(methods, TokenCookie) && slices.Contains(methods, TokenBearer)
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

// metricsAddrProblem says what is wrong with MetricsAddr, or "". The API
// listens on Port on every interface, so the metrics cannot have that port
// on any host.
func (c Config) metricsAddrProblem() string {
	if c.MetricsAddr == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(c.MetricsAddr)
	if err != nil {
		return "is not a host:port address (" + metricsAddrHint + ")"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || !allDigits(port) {
		return "has no port number 0..65535 (" + metricsAddrHint + ")"
	}
	if n == c.Port {
		return fmt.Sprintf("has the API's port (PORT=%d); the metrics need a port of their own", c.Port)
	}
	return ""
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
