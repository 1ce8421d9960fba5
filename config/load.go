package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Load returns Defaults overlaid with the environment variables found by
// lookup, then checks the result with Validate. Pass os.LookupEnv in
// production; tests pass a map's lookup. A nil lookup finds nothing.
//
// A variable that is set is used even when empty, so a missing secret in
// SUPERADMIN_PASSWORD=${SECRET} is an error rather than a silent default. For
// DATABASE_URL, REDIS_URL, OTEL_EXPORTER_OTLP_ENDPOINT, DEFAULT_CHANNEL_TOKEN
// and SESSION_CACHE_STRATEGY the empty string has the meaning given in the
// field's comment. A field
// whose consumer applies its default (see Config) stays zero while its
// variable is unset; set to zero or empty, the variable is an error. Numbers,
// booleans, durations, URLs and the words of LOG_LEVEL,
// SESSION_CACHE_STRATEGY and TOKEN_METHOD may have white space around them;
// names, tokens and the superadmin credentials are taken exactly as given.
// LOG_LEVEL is read by slog.Level.UnmarshalText (so "warn", "INFO+2").
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

	// APP_ENV first: production changes the defaults the variables below
	// then override.
	r.word("APP_ENV", &c.AppEnv)
	if c.Production() {
		c.Introspection = false
		c.Playground = false
	}

	r.duration("ANONYMOUS_CART_IDLE_TIMEOUT", time.Millisecond, &c.AnonymousCartIdleTimeout)
	r.duration("ANONYMOUS_IDLE_TIMEOUT", time.Millisecond, &c.AnonymousIdleTimeout)
	r.string("ADMIN_PERSISTED_DOCUMENTS", &c.AdminPersistedDocuments)
	r.bool("ADMIN_PERSISTED_DOCUMENTS_ONLY", &c.AdminPersistedDocumentsOnly)
	r.duration("ANONYMOUS_SESSION_DURATION", time.Millisecond, &c.AnonymousSessionDuration)
	r.bool("APQ", &c.APQ)
	r.bytes("APQ_CACHE_BYTES", apqBytesHint, &c.APQCacheBytes)
	r.duration("APQ_TTL", time.Second, &c.APQTTL)
	r.string("AUTH_TOKEN_HEADER_KEY", &c.AuthTokenHeaderKey)
	r.int("BCRYPT_COST", bcryptCostHint, &c.BcryptCost)
	r.string("CHANNEL_TOKEN_KEY", &c.ChannelTokenKey)
	r.int("CLEAN_SESSIONS_BATCH_SIZE", batchSizeHint, &c.CleanSessionsBatchSize)
	if v, ok := r.lookup("CLEAN_SESSIONS_SCHEDULE"); ok {
		c.CleanSessionsSchedule = strings.TrimSpace(v)
	}
	r.duration("CLEAN_SESSIONS_TIME_BUDGET", time.Millisecond, &c.CleanSessionsTimeBudget)
	if v, ok := r.lookup("CORS_ORIGINS"); ok {
		c.CORSOrigins = nil
		for o := range strings.SplitSeq(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
	}
	r.string("COOKIE_DOMAIN", &c.CookieDomain)
	r.bool("COOKIE_HOST_PREFIX", &c.CookieHostPrefix)
	r.string("COOKIE_NAME", &c.CookieName)
	r.word("COOKIE_SAMESITE", &c.CookieSameSite)
	r.cookieSecure("COOKIE_SECURE", &c.CookieSecure)
	if v, ok := r.lookup("DATABASE_URL"); ok {
		c.DatabaseURL = strings.TrimSpace(v)
	}
	r.duration("DB_QUERY_TIMEOUT", time.Millisecond, &c.DBQueryTimeout)
	r.string("DEFAULT_CHANNEL_TOKEN", &c.DefaultChannelToken)
	r.bool("INTROSPECTION", &c.Introspection)
	r.word("LOG_FORMAT", &c.LogFormat)
	r.logLevel("LOG_LEVEL", &c.LogLevel)
	r.word("LOGOUT_SCOPE", &c.LogoutScope)
	r.word("GUEST_SESSIONS", &c.GuestSessions)
	r.int("GUEST_ADDRESS_LIMIT", guestLimitHint, &c.GuestAddressLimit)
	r.duration("GUEST_ADDRESS_WINDOW", time.Millisecond, &c.GuestAddressWindow)
	r.int("GUEST_CACHE_LIMIT", guestLimitHint, &c.GuestCacheLimit)
	r.string("ORDER_MERGE_STRATEGY", &c.OrderMergeStrategy)
	r.int("MAX_QUERY_ALIASES", limitHint, &c.MaxQueryAliases)
	r.int("MAX_QUERY_DEPTH", limitHint, &c.MaxQueryDepth)
	r.int("MAX_QUERY_FIELDS", limitHint, &c.MaxQueryFields)
	r.int("MAX_QUERY_FRAGMENTS", limitHint, &c.MaxQueryFragments)
	r.int("MAX_QUERY_TOKENS", limitHint, &c.MaxQueryTokens)
	if v, ok := r.lookup("OTEL_EXPORTER_OTLP_ENDPOINT"); ok {
		c.OTLPEndpoint = strings.TrimSpace(v)
	}
	r.word("OTEL_EXPORTER_OTLP_PROTOCOL", &c.OTLPProtocol)
	if v, ok := r.lookup("METRICS_ADDR"); ok {
		c.MetricsAddr = strings.TrimSpace(v)
	}
	r.readNotify(&c) // NOTIFIER, SMTP_URL, MAIL_*, VERIFY_URL, PASSWORD_RESET_URL, NOTIFY_*
	r.int("PASSWORD_HASH_CONCURRENCY", limitHint, &c.PasswordHashConcurrency)
	r.string("PERSISTED_DOCUMENTS", &c.PersistedDocuments)
	r.bool("PERSISTED_DOCUMENTS_ONLY", &c.PersistedDocumentsOnly)
	r.duration("PASSWORD_RESET_TOKEN_DURATION", time.Millisecond, &c.PasswordResetTokenDuration)
	r.bool("PLAYGROUND", &c.Playground)
	r.int("PORT", portHint, &c.Port)
	if v, ok := r.lookup("REDIS_URL"); ok {
		c.RedisURL = strings.TrimSpace(v)
	}
	r.duration("REMEMBER_ME_DURATION", time.Millisecond, &c.RememberMeDuration)
	r.duration("REQUEST_TIMEOUT", time.Millisecond, &c.RequestTimeout)
	r.bool("REQUIRE_VERIFICATION", &c.RequireVerification)
	r.int("SESSION_CACHE_SIZE", cacheSizeHint, &c.SessionCacheSize)
	r.bytes("SESSION_CACHE_MAX_BYTES", cacheBytesHint, &c.SessionCacheMaxBytes)
	r.int("SESSION_NEGATIVE_CACHE_SIZE", negativeSizeHint, &c.SessionNegativeCacheSize)
	r.duration("SESSION_NEGATIVE_CACHE_TTL", time.Second, &c.SessionNegativeCacheTTL)
	r.duration("SESSION_IDLE_TIMEOUT", time.Second, &c.SessionIdleTimeout)
	r.duration("SESSION_METADATA_RETENTION", time.Second, &c.SessionMetadataRetention)
	if c.RedisURL != "" {
		c.SessionCacheStrategy = CacheRedis
	}
	if v, ok := r.lookup("SESSION_CACHE_STRATEGY"); ok && strings.TrimSpace(v) != "" {
		c.SessionCacheStrategy = strings.ToLower(strings.TrimSpace(v))
	}
	r.duration("SESSION_CACHE_TTL", time.Second, &c.SessionCacheTTL)
	r.duration("SESSION_CACHE_TIMEOUT", time.Millisecond, &c.SessionCacheTimeout)
	r.duration("SESSION_DURATION", time.Millisecond, &c.SessionDuration)
	r.duration("SHUTDOWN_DRAIN", time.Millisecond, &c.ShutdownDrain)
	r.duration("SHUTDOWN_TIMEOUT", time.Millisecond, &c.ShutdownTimeout)
	r.string("SUPERADMIN_IDENTIFIER", &c.SuperadminIdentifier)
	r.string("SUPERADMIN_PASSWORD", &c.SuperadminPassword)
	r.readThrottle(&c) // THROTTLE, THROTTLE_*, TRUSTED_PROXIES
	if v, ok := r.lookup("TOKEN_METHOD"); ok {
		c.TokenMethods = nil
		for method := range strings.SplitSeq(v, ",") {
			c.TokenMethods = append(c.TokenMethods, strings.ToLower(strings.TrimSpace(method)))
		}
	}
	r.duration("VERIFICATION_TOKEN_DURATION", time.Millisecond, &c.VerificationTokenDuration)

	// A value that failed to parse kept its (valid) default, so Validate does
	// not report it a second time; nor is it explicit.
	explicit := func(name string) bool {
		_, set := lookup(name)
		return set && !r.failed[name]
	}
	if errs := append(r.errs, c.problems(explicit)...); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// envReader reads environment variables into a Config, collecting an error
// for each value that does not parse.
type envReader struct {
	errs   []error
	failed map[string]bool // the variables in errs
	lookup func(string) (string, bool)
}

func (r *envReader) bool(name string, dst *bool) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	if !parseBool(v, dst) {
		r.fail(name, "%q is not a boolean (%s)", v, booleanHint)
	}
}

// parseBool reads a boolean as Load accepts one into dst, and reports
// whether v was one.
func parseBool(v string, dst *bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		*dst = true
	case "false", "0", "no", "off":
		*dst = false
	default:
		return false
	}
	return true
}

// cookieSecure reads COOKIE_SECURE: "auto", or a boolean stored as
// CookieSecureTrue or CookieSecureFalse.
func (r *envReader) cookieSecure(name string, dst *string) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	if strings.EqualFold(strings.TrimSpace(v), CookieSecureAuto) {
		*dst = CookieSecureAuto
		return
	}
	var on bool
	if !parseBool(v, &on) {
		r.fail(name, "%q is neither auto nor a boolean (use auto, or %s)", v, booleanHint)
		return
	}
	*dst = CookieSecureFalse
	if on {
		*dst = CookieSecureTrue
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
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	r.failed[name] = true
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

// bytes reads a size: a number of bytes, or one with a unit in SI (kB, MB,
// GB) or IEC (KiB, MiB, GiB) form, as go-humanize's ParseBytes reads it
// (already a dependency, through the SQLite driver).
func (r *envReader) bytes(name, hint string, dst *int64) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	n, err := humanize.ParseBytes(strings.TrimSpace(v))
	if err != nil || n > math.MaxInt64 {
		r.fail(name, "%q is not a size (%s)", v, hint)
		return
	}
	*dst = int64(n)
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

// logLevel reads a level the way slog writes one ("info", "WARN", "info+2"),
// through slog's own parser, so the accepted spellings are slog's.
func (r *envReader) logLevel(name string, dst *slog.Level) {
	v, ok := r.lookup(name)
	if !ok {
		return
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
		r.fail(name, "%q is not a log level (%s)", v, logLevelHint)
		return
	}
	*dst = level
}
