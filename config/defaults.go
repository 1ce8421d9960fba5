package config

import (
	"log/slog"
	"runtime"
	"time"
)

// DefaultSQLitePath is the database used when DatabaseURL is empty.
const DefaultSQLitePath = "./data/sessionserver.db"

// Defaults of the guest-session limits. 300 new sessions per 5 minutes is
// one a second from one address, sustained: far more than a household or
// an office makes (a new session is a first visit without a cookie), and
// a flood from one address is refused after it. 100,000 cache-only guests
// per instance bound its share of Redis to 100,000 guest keys, while a
// real shop seldom has that many guests browsing within one
// SESSION_CACHE_TTL (5 minutes) on one instance.
// MinSessionIdleTimeout is the shortest SESSION_IDLE_TIMEOUT: last use
// is recorded once a minute.
const MinSessionIdleTimeout = 5 * time.Minute

const (
	DefaultGuestAddressLimit  = 300
	DefaultGuestAddressWindow = 5 * time.Minute
	DefaultGuestCacheLimit    = 100000
)

// Defaults returns the configuration used when no environment variable is
// set. It is valid as it stands.
//
// It sets the fields whose defaults are the server's own choices. The
// fields whose defaults belong to the package that uses them stay zero,
// and that package applies its default (see Config): the durations and
// limits of sessions (service, auth), the header and cookie names
// (requestctx, auth), the GraphQL document limits (gqlutil), the
// clean-sessions job's schedule, batch size and time budget (jobs,
// service), DB_QUERY_TIMEOUT (database), SESSION_CACHE_TIMEOUT
// (redisstore), the throttle's rates, key bound and Redis timeout
// (service, throttle), APQ's bytes and TTL (persisted), and the notify
// job's attempts, retry delay and timeout (jobs, notify).
func Defaults() Config {
	return Config{
		AppEnv:                   EnvDevelopment,
		APQ:                      true,
		BcryptCost:               12,
		CookieSameSite:           "lax",
		CookieSecure:             CookieSecureAuto,
		GuestAddressLimit:        DefaultGuestAddressLimit,
		GuestAddressWindow:       DefaultGuestAddressWindow,
		GuestCacheLimit:          DefaultGuestCacheLimit,
		GuestSessions:            GuestLazy,
		Introspection:            true,
		LogFormat:                LogText,
		LogLevel:                 slog.LevelInfo,
		LogoutScope:              LogoutSession,
		OrderMergeStrategy:       MergeOrdersStrategy,
		OTLPProtocol:             OTLPHTTP,
		PasswordHashConcurrency:  max(1, runtime.NumCPU()/2),
		Playground:               true,
		Port:                     3000,
		RequestTimeout:           15 * time.Second,
		RequireVerification:      true,
		SessionCacheSize:         100000,
		SessionNegativeCacheSize: 100000,
		SessionNegativeCacheTTL:  30 * time.Second,
		SessionCacheStrategy:     CacheMemory,
		ShutdownDrain:            5 * time.Second,
		ShutdownTimeout:          10 * time.Second,
		SuperadminIdentifier:     "superadmin",
		SuperadminPassword:       "superadmin",
		Throttle:                 ThrottleConfig{Enabled: true},
		TokenMethods:             []string{TokenCookie, TokenBearer},
	}
}
