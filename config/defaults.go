package config

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
)

// DefaultSQLitePath is the database used when DatabaseURL is empty.
const DefaultSQLitePath = "./data/sessionserver.db"

// DefaultCleanSessionsTimeBudget is one clean-sessions job's budget: at a
// few milliseconds per batch of 1000 that is millions of sessions, while a
// leadership change, a deploy or a shutdown waits at most this long for
// the job (SHUTDOWN_TIMEOUT cancels it sooner, and it is retried).
const DefaultCleanSessionsTimeBudget = time.Minute

// Defaults of the guest-session limits. 300 new sessions per 5 minutes is
// one a second from one address, sustained: far more than a household or
// an office makes (a new session is a first visit without a cookie), and
// a flood from one address is refused after it. 100,000 cache-only guests
// per instance bound its share of Redis to 100,000 guest keys, while a
// real shop seldom has that many guests browsing within one
// SESSION_CACHE_TTL (5 minutes) on one instance.
const (
	DefaultGuestAddressLimit  = 300
	DefaultGuestAddressWindow = 5 * time.Minute
	DefaultGuestCacheLimit    = 100000
)

// Defaults returns the configuration used when no environment variable is
// set. It is valid as it stands.
func Defaults() Config {
	return Config{
		// Guest sessions (a group of their own, so that adding them did
		// not realign every line below).

		AnonymousCartIdleTimeout:   session.DefaultAnonymousCartIdleTimeout,
		AnonymousIdleTimeout:       session.DefaultAnonymousIdleTimeout,
		AnonymousSessionDuration:   session.DefaultAnonymousSessionDuration,
		AuthTokenHeaderKey:         auth.DefaultAuthTokenHeaderKey,
		BcryptCost:                 12,
		ChannelTokenKey:            auth.DefaultChannelTokenKey,
		CleanSessionsBatchSize:     session.DefaultCleanSessionsBatchSize,
		CleanSessionsSchedule:      jobs.DefaultSchedule,
		CleanSessionsTimeBudget:    DefaultCleanSessionsTimeBudget,
		CORSOrigins:                nil,
		CookieDomain:               "",
		CookieName:                 auth.DefaultCookieName,
		CookieSameSite:             "lax",
		CookieSecure:               false,
		DatabaseURL:                "",
		DBQueryTimeout:             database.DefaultQueryTimeout,
		DefaultChannelToken:        "",
		Introspection:              true,
		LogLevel:                   slog.LevelInfo,
		LogoutScope:                LogoutAll,
		GuestSessions:              GuestLazy,
		GuestAddressLimit:          DefaultGuestAddressLimit,
		GuestAddressWindow:         DefaultGuestAddressWindow,
		GuestCacheLimit:            DefaultGuestCacheLimit,
		MaxQueryAliases:            gqlutil.DefaultMaxAliases,
		MaxQueryDepth:              gqlutil.DefaultMaxDepth,
		MaxQueryFields:             gqlutil.DefaultMaxFields,
		MaxQueryFragments:          gqlutil.DefaultMaxFragments,
		MaxQueryTokens:             gqlutil.DefaultMaxTokens,
		OrderMergeStrategy:         MergeOrdersStrategy,
		PasswordHashConcurrency:    max(1, runtime.NumCPU()/2),
		PasswordResetTokenDuration: account.DefaultPasswordResetTokenDuration,
		Playground:                 true,
		Port:                       3000,
		RedisURL:                   "",
		RememberMeDuration:         auth.DefaultRememberMeDuration,
		RequestTimeout:             15 * time.Second,
		RequireVerification:        true,
		SessionCacheSize:           100000,
		SessionCacheMaxBytes:       0,
		SessionCacheStrategy:       CacheMemory,
		SessionCacheTTL:            auth.DefaultSessionCacheTTL,
		SessionCacheTimeout:        redisstore.DefaultOperationTimeout,
		SessionDuration:            auth.DefaultSessionDuration,
		ShutdownTimeout:            10 * time.Second,
		SuperadminIdentifier:       "superadmin",
		SuperadminPassword:         "superadmin",
		Throttle:                   DefaultThrottle(),
		TokenMethods:               []string{TokenCookie, TokenBearer},
		TrustedProxies:             nil,
		VerificationTokenDuration:  account.DefaultVerificationTokenDuration,
	}
}
