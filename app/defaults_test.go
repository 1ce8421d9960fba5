package app_test

import (
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
)

// TestWithDefaults checks the configuration the server runs with when no
// variable is set: config's own defaults with the defaults of the packages
// that use the other settings, the values config's and the README's
// documentation give.
func TestWithDefaults(t *testing.T) {
	t.Parallel()

	c := app.WithDefaults(config.Defaults())
	require.NoError(t, c.Validate())
	minute := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	rate := func(limit int, window time.Duration) *config.Rate { return &config.Rate{Limit: limit, Window: window} }
	require.Equal(t, config.Config{
		AppEnv:                     "development",
		AnonymousCartIdleTimeout:   30 * 24 * time.Hour,
		AnonymousIdleTimeout:       7 * 24 * time.Hour,
		AnonymousSessionDuration:   30 * 24 * time.Hour,
		APQ:                        true,
		APQCacheBytes:              8 << 20,
		APQTTL:                     24 * time.Hour,
		AuthTokenHeaderKey:         "vendure-auth-token",
		BcryptCost:                 12,
		ChannelTokenKey:            "vendure-token",
		CleanSessionsBatchSize:     1000,
		CleanSessionsSchedule:      "0 0 * * *",
		CleanSessionsTimeBudget:    time.Minute,
		CookieName:                 "session",
		CookieSameSite:             "lax",
		CookieSecure:               "auto",
		DatabaseURL:                "",
		DBQueryTimeout:             5 * time.Second,
		DefaultChannelToken:        "",
		GuestSessions:              "lazy",
		GuestAddressLimit:          300,
		GuestAddressWindow:         5 * time.Minute,
		GuestCacheLimit:            100000,
		Introspection:              true,
		LogFormat:                  "text",
		LogLevel:                   slog.LevelInfo,
		LogoutScope:                "session",
		MaxQueryAliases:            30,
		MaxQueryDepth:              15,
		MaxQueryFields:             1000,
		MaxQueryFragments:          100,
		MaxQueryTokens:             15000,
		MetricsAddr:                "",
		Notify:                     config.NotifyConfig{MaxAttempts: 10, RetryDelay: 30 * time.Second, Timeout: 30 * time.Second},
		OrderMergeStrategy:         "MergeOrdersStrategy",
		OTLPProtocol:               "http/protobuf",
		PasswordHashConcurrency:    max(1, runtime.NumCPU()/2),
		PasswordResetTokenDuration: time.Hour,
		Playground:                 true,
		Port:                       3000,
		RedisURL:                   "",
		RememberMeDuration:         31557600000 * time.Millisecond,
		RequestTimeout:             15 * time.Second,
		RequireVerification:        true,
		SessionCacheSize:           100000,
		SessionNegativeCacheSize:   100000,
		SessionNegativeCacheTTL:    30 * time.Second,
		SessionMetadataRetention:   90 * 24 * time.Hour,
		SessionCacheStrategy:       "memory",
		SessionCacheTTL:            300 * time.Second,
		SessionCacheTimeout:        50 * time.Millisecond,
		SessionDuration:            31557600000 * time.Millisecond,
		ShutdownDrain:              5 * time.Second,
		ShutdownTimeout:            10 * time.Second,
		SuperadminIdentifier:       "superadmin",
		SuperadminPassword:         "superadmin",
		Throttle: config.ThrottleConfig{
			Enabled: true,
			Limits: config.ThrottleLimits{
				LoginFailures:              rate(10, minute(1)),
				LoginFailuresPerIdentifier: rate(100, minute(15)),
				LoginFailuresPerAddress:    rate(50, minute(15)),
				TokenFailures:              rate(10, minute(15)),
				MailRequests:               rate(20, minute(15)),
				MailsPerEmailAddress:       rate(3, minute(60)),
				Registrations:              rate(10, minute(60)),
				CheckoutPerSession:         rate(20, minute(15)),
				CheckoutPerEmailAddress:    rate(20, minute(15)),
				CheckoutPerAddress:         rate(60, minute(15)),
			},
			MemoryKeys:   100000,
			RedisTimeout: 100 * time.Millisecond,
		},
		TokenMethods:              []string{"cookie", "bearer"},
		TrustedProxies:            nil,
		VerificationTokenDuration: 7 * 24 * time.Hour,
	}, c)
	require.Equal(t, c, app.WithDefaults(c), "a second pass changes nothing")
}

// What the environment sets is kept, "off" included; the rest is filled.
func TestWithDefaultsKeepsSetValues(t *testing.T) {
	t.Parallel()

	vars := map[string]string{
		"SESSION_DURATION":         "7d",
		"MAX_QUERY_DEPTH":          "8",
		"CLEAN_SESSIONS_SCHEDULE":  "off",
		"THROTTLE_LOGIN_FAILURES":  "5/30s",
		"THROTTLE_MAILS_PER_EMAIL": "off",
		"THROTTLE_MEMORY_KEYS":     "1000",
		"AUTH_TOKEN_HEADER_KEY":    "x-auth-token",
	}
	loaded, err := config.Load(func(name string) (string, bool) { v, ok := vars[name]; return v, ok })
	require.NoError(t, err)
	c := app.WithDefaults(loaded)
	require.Equal(t, 7*24*time.Hour, c.SessionDuration)
	require.Equal(t, 8, c.MaxQueryDepth)
	require.Equal(t, "off", c.CleanSessionsSchedule)
	require.Equal(t, &config.Rate{Limit: 5, Window: 30 * time.Second}, c.Throttle.Limits.LoginFailures)
	require.Equal(t, &config.Rate{}, c.Throttle.Limits.MailsPerEmailAddress, "off stays off")
	require.Equal(t, 1000, c.Throttle.MemoryKeys)
	require.Equal(t, "x-auth-token", c.AuthTokenHeaderKey)
	require.Equal(t, &config.Rate{Limit: 10, Window: time.Hour}, c.Throttle.Limits.Registrations, "an unset rate gets its default")
	require.Equal(t, 300*time.Second, c.SessionCacheTTL)
	require.Nil(t, loaded.Throttle.Limits.Registrations, "the given Config is not changed")
}
