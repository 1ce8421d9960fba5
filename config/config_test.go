package config

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// env turns a map into a lookup function for Load.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// problems splits an error from Load or Validate into its messages.
func problems(t *testing.T, err error) []string {
	t.Helper()

	require.Error(t, err)
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined, "error is not joined: %v", err)
	var msgs []string
	for _, e := range joined.Unwrap() {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

// TestDefaults checks the values config chooses itself; the fields whose
// defaults belong to the packages that use them are zero here, and app's
// TestWithDefaults checks what they come to.
func TestDefaults(t *testing.T) {
	t.Parallel()

	c := Defaults()
	require.NoError(t, c.Validate())
	require.Equal(t, Config{
		AppEnv:                   "development",
		APQ:                      true,
		BcryptCost:               12,
		CookieSameSite:           "lax",
		CookieSecure:             "auto",
		DatabaseURL:              "",
		DefaultChannelToken:      "",
		GuestSessions:            "lazy",
		GuestAddressLimit:        300,
		GuestAddressWindow:       5 * time.Minute,
		GuestCacheLimit:          100000,
		Introspection:            true,
		LogFormat:                "text",
		LogLevel:                 slog.LevelInfo,
		LogoutScope:              "session",
		MetricsAddr:              "",
		OrderMergeStrategy:       "MergeOrdersStrategy",
		OTLPProtocol:             "http/protobuf",
		PasswordHashConcurrency:  max(1, runtime.NumCPU()/2),
		Playground:               true,
		Port:                     3000,
		RedisURL:                 "",
		RequestTimeout:           15 * time.Second,
		RequireVerification:      true,
		SessionCacheSize:         100000,
		SessionNegativeCacheSize: 100000,
		SessionNegativeCacheTTL:  30 * time.Second,
		SessionCacheStrategy:     "memory",
		ShutdownDrain:            5 * time.Second,
		ShutdownTimeout:          10 * time.Second,
		SuperadminIdentifier:     "superadmin",
		SuperadminPassword:       "superadmin",
		Throttle:                 ThrottleConfig{Enabled: true},
		TokenMethods:             []string{"cookie", "bearer"},
	}, c)
	require.Equal(t, "sqlite", c.DatabaseDialect())
	require.Equal(t, "./data/sessionserver.db", c.SQLitePath())
	require.True(t, c.UsesCookie())
	require.True(t, c.UsesBearer())

	// Each call returns its own slice.
	c.TokenMethods[0] = "changed"
	require.Equal(t, []string{"cookie", "bearer"}, Defaults().TokenMethods)
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("EmptyEnvironmentGivesDefaults", func(t *testing.T) {
		t.Parallel()

		c, err := Load(env(nil))
		require.NoError(t, err)
		require.Equal(t, Defaults(), c)

		c, err = Load(nil)
		require.NoError(t, err)
		require.Equal(t, Defaults(), c)
	})

	t.Run("EveryVariableOverridden", func(t *testing.T) {
		t.Parallel()

		c, err := Load(env(map[string]string{
			"ANONYMOUS_IDLE_TIMEOUT":         "2d",
			"APP_ENV":                        " Production ",
			"ANONYMOUS_SESSION_DURATION":     "14d",
			"AUTH_TOKEN_HEADER_KEY":          "x-auth-token",
			"BCRYPT_COST":                    "10",
			"CHANNEL_TOKEN_KEY":              "x-channel",
			"CLEAN_SESSIONS_BATCH_SIZE":      "5000",
			"CLEAN_SESSIONS_SCHEDULE":        " CRON_TZ=Europe/Berlin 30 3 * * 1-5 ",
			"CLEAN_SESSIONS_TIME_BUDGET":     "5m",
			"CORS_ORIGINS":                   "https://shop.example.com, http://localhost:5173",
			"COOKIE_DOMAIN":                  "example.com",
			"COOKIE_NAME":                    "sid",
			"COOKIE_SAMESITE":                "None",
			"COOKIE_SECURE":                  "yes",
			"DATABASE_URL":                   "postgres://app:secret@db:5432/app?sslmode=disable",
			"DB_QUERY_TIMEOUT":               "2s",
			"MAX_QUERY_ALIASES":              "5",
			"MAX_QUERY_DEPTH":                "8",
			"MAX_QUERY_FIELDS":               "200",
			"MAX_QUERY_FRAGMENTS":            "20",
			"NOTIFIER":                       " SMTP ",
			"SMTP_URL":                       " smtp://mailer:p%40ss@mail.example.com:2587 ",
			"MAIL_FROM":                      "Shop <no-reply@shop.example.com>",
			"MAIL_TEMPLATES_DIR":             "/etc/shop/mail",
			"VERIFY_URL":                     "https://shop.example.com/verify?token={token}",
			"PASSWORD_RESET_URL":             "https://shop.example.com/reset/{token}",
			"NOTIFY_NEW_SIGN_IN":             "on",
			"NOTIFY_MAX_ATTEMPTS":            "4",
			"NOTIFY_RETRY_DELAY":             "10",
			"NOTIFY_TIMEOUT":                 "5s",
			"MAX_QUERY_TOKENS":               "3000",
			"ORDER_MERGE_STRATEGY":           "UseGuestStrategy",
			"OTEL_EXPORTER_OTLP_ENDPOINT":    " https://otel-collector:4317 ",
			"OTEL_EXPORTER_OTLP_PROTOCOL":    "GRPC",
			"PASSWORD_HASH_CONCURRENCY":      "3",
			"PASSWORD_RESET_TOKEN_DURATION":  "15m",
			"REQUEST_TIMEOUT":                "20s",
			"DEFAULT_CHANNEL_TOKEN":          "default-token",
			"GUEST_SESSIONS":                 "Eager",
			"GUEST_ADDRESS_LIMIT":            "0",
			"GUEST_ADDRESS_WINDOW":           "1h",
			"GUEST_CACHE_LIMIT":              " 5000 ",
			"ANONYMOUS_CART_IDLE_TIMEOUT":    "14d",
			"INTROSPECTION":                  "off",
			"LOG_FORMAT":                     " JSON ",
			"LOG_LEVEL":                      "DEBUG",
			"LOGOUT_SCOPE":                   "All",
			"PLAYGROUND":                     "0",
			"PORT":                           " 8080 ",
			"REDIS_URL":                      "rediss://:pw@cache:6380/2",
			"REMEMBER_ME_DURATION":           "30d",
			"REQUIRE_VERIFICATION":           "False",
			"SESSION_CACHE_SIZE":             "500",
			"SESSION_CACHE_MAX_BYTES":        " 256MiB ",
			"SESSION_NEGATIVE_CACHE_SIZE":    "0",
			"SESSION_NEGATIVE_CACHE_TTL":     "5",
			"SESSION_IDLE_TIMEOUT":           "30m",
			"SESSION_METADATA_RETENTION":     "30d",
			"SESSION_CACHE_STRATEGY":         "Noop",
			"SESSION_CACHE_TTL":              "60",
			"SESSION_CACHE_TIMEOUT":          "100",
			"SESSION_DURATION":               "7d",
			"SHUTDOWN_TIMEOUT":               "30s",
			"SUPERADMIN_IDENTIFIER":          "admin@example.com",
			"SUPERADMIN_PASSWORD":            "correct horse battery staple",
			"THROTTLE":                       "off",
			"THROTTLE_LOGIN_FAILURES":        " 5/30s ",
			"THROTTLE_MAILS_PER_EMAIL":       "off",
			"THROTTLE_REGISTRATIONS":         "2/3600",
			"THROTTLE_MEMORY_KEYS":           "1000",
			"TOKEN_METHOD":                   "bearer, cookie",
			"TRUSTED_PROXIES":                "10.0.0.0/8, 2001:db8::/32,192.0.2.1",
			"VERIFICATION_TOKEN_DURATION":    "86400000",
			"ADMIN_PERSISTED_DOCUMENTS":      "/etc/app/admin-documents.graphql",
			"ADMIN_PERSISTED_DOCUMENTS_ONLY": "no",
			"APQ":                            "off",
			"APQ_CACHE_BYTES":                "1MiB",
			"APQ_TTL":                        "3600",
			"PERSISTED_DOCUMENTS":            "/etc/app/persisted-documents.json",
			"PERSISTED_DOCUMENTS_ONLY":       "yes",
			"SHUTDOWN_DRAIN":                 "15000",
			"METRICS_ADDR":                   " 127.0.0.1:9090 ",
		}))
		require.NoError(t, err)
		require.Equal(t, Config{
			AdminPersistedDocuments:  "/etc/app/admin-documents.graphql",
			APQ:                      false,
			APQCacheBytes:            1 << 20,
			APQTTL:                   time.Hour,
			PersistedDocuments:       "/etc/app/persisted-documents.json",
			PersistedDocumentsOnly:   true,
			AnonymousCartIdleTimeout: 14 * 24 * time.Hour,
			AnonymousIdleTimeout:     2 * 24 * time.Hour,
			AnonymousSessionDuration: 14 * 24 * time.Hour,
			AuthTokenHeaderKey:       "x-auth-token",
			BcryptCost:               10,
			ChannelTokenKey:          "x-channel",
			CleanSessionsBatchSize:   5000,
			CleanSessionsSchedule:    "CRON_TZ=Europe/Berlin 30 3 * * 1-5",
			CleanSessionsTimeBudget:  5 * time.Minute,
			CORSOrigins:              []string{"https://shop.example.com", "http://localhost:5173"},
			CookieDomain:             "example.com",
			AppEnv:                   "production",
			CookieName:               "sid",
			CookieSameSite:           "none",
			CookieSecure:             "true",
			DatabaseURL:              "postgres://app:secret@db:5432/app?sslmode=disable",
			DBQueryTimeout:           2 * time.Second,
			DefaultChannelToken:      "default-token",
			GuestSessions:            "eager",
			GuestAddressLimit:        0,
			GuestAddressWindow:       time.Hour,
			GuestCacheLimit:          5000,
			Introspection:            false,
			LogFormat:                "json",
			LogLevel:                 slog.LevelDebug,
			LogoutScope:              "all",
			MaxQueryAliases:          5,
			MaxQueryDepth:            8,
			MaxQueryFields:           200,
			MaxQueryFragments:        20,
			Notify: NotifyConfig{
				Notifier: "smtp", SMTPURL: "smtp://mailer:p%40ss@mail.example.com:2587",
				MailFrom: "Shop <no-reply@shop.example.com>", MailTemplatesDir: "/etc/shop/mail",
				VerifyURL:        "https://shop.example.com/verify?token={token}",
				PasswordResetURL: "https://shop.example.com/reset/{token}",
				NewSignIn:        true, MaxAttempts: 4, RetryDelay: 10 * time.Second, Timeout: 5 * time.Second,
			},
			MaxQueryTokens:             3000,
			MetricsAddr:                "127.0.0.1:9090",
			OrderMergeStrategy:         "UseGuestStrategy",
			OTLPEndpoint:               "https://otel-collector:4317",
			OTLPProtocol:               "grpc",
			PasswordHashConcurrency:    3,
			PasswordResetTokenDuration: 15 * time.Minute,
			Playground:                 false,
			Port:                       8080,
			RedisURL:                   "rediss://:pw@cache:6380/2",
			RememberMeDuration:         30 * 24 * time.Hour,
			RequestTimeout:             20 * time.Second,
			RequireVerification:        false,
			SessionCacheSize:           500,
			SessionCacheMaxBytes:       256 << 20,
			SessionNegativeCacheSize:   0,
			SessionNegativeCacheTTL:    5 * time.Second,
			SessionIdleTimeout:         30 * time.Minute,
			SessionMetadataRetention:   30 * 24 * time.Hour,
			SessionCacheStrategy:       "noop",
			SessionCacheTTL:            time.Minute,
			SessionCacheTimeout:        100 * time.Millisecond,
			SessionDuration:            7 * 24 * time.Hour,
			ShutdownDrain:              15 * time.Second,
			ShutdownTimeout:            30 * time.Second,
			SuperadminIdentifier:       "admin@example.com",
			SuperadminPassword:         "correct horse battery staple",
			Throttle:                   throttleOverridden,
			TokenMethods:               []string{"bearer", "cookie"},
			TrustedProxies:             []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.1"},
			VerificationTokenDuration:  24 * time.Hour,
		}, c)
		require.Equal(t, "postgres", c.DatabaseDialect())
		require.Empty(t, c.SQLitePath())
		require.True(t, c.Tracing())
	})

	// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector;
	// set but empty, as a compose file may leave it, it is off too.
	t.Run("TracingOnlyWithAnEndpoint", func(t *testing.T) {
		t.Parallel()

		for _, vars := range []map[string]string{nil, {"OTEL_EXPORTER_OTLP_ENDPOINT": " "}} {
			c, err := Load(env(vars))
			require.NoError(t, err)
			require.False(t, c.Tracing())
		}
		c, err := Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}))
		require.NoError(t, err)
		require.True(t, c.Tracing())
		require.Equal(t, "http/protobuf", c.OTLPProtocol)
	})

	// Production turns introspection and the playground off unless their
	// variables turn them on, in either order of reading.
	t.Run("ProductionDefaults", func(t *testing.T) {
		t.Parallel()

		c, err := Load(env(map[string]string{"APP_ENV": "production", "NOTIFIER": "log"}))
		require.NoError(t, err)
		require.True(t, c.Production())
		require.False(t, c.Introspection)
		require.False(t, c.Playground)

		c, err = Load(env(map[string]string{"APP_ENV": "production", "NOTIFIER": "log", "INTROSPECTION": "true", "PLAYGROUND": "on"}))
		require.NoError(t, err)
		require.True(t, c.Introspection)
		require.True(t, c.Playground)

		c, err = Load(env(map[string]string{"APP_ENV": "development"}))
		require.NoError(t, err)
		require.False(t, c.Production())
		require.True(t, c.Introspection)
		require.True(t, c.Playground)
	})

	t.Run("Booleans", func(t *testing.T) {
		t.Parallel()

		for in, want := range map[string]bool{
			"true": true, "TRUE": true, "1": true, "yes": true, "Yes": true, "on": true, " ON ": true,
			"false": false, "False": false, "0": false, "no": false, "NO": false, "off": false, "Off": false,
		} {
			c, err := Load(env(map[string]string{"COOKIE_SECURE": in, "PLAYGROUND": in, "COOKIE_HOST_PREFIX": in}))
			require.NoError(t, err, "input %q", in)
			require.Equal(t, map[bool]string{true: "true", false: "false"}[want], c.CookieSecure, "input %q", in)
			require.Equal(t, want, c.Playground, "input %q", in)
			require.Equal(t, want, c.CookieHostPrefix, "input %q", in)
		}
		for _, in := range []string{"auto", "AUTO", " Auto "} {
			c, err := Load(env(map[string]string{"COOKIE_SECURE": in}))
			require.NoError(t, err, "input %q", in)
			require.Equal(t, "auto", c.CookieSecure, "input %q", in)
		}
	})

	t.Run("TokenMethods", func(t *testing.T) {
		t.Parallel()

		for in, want := range map[string][]string{
			"cookie":          {"cookie"},
			"bearer":          {"bearer"},
			"cookie,bearer":   {"cookie", "bearer"},
			"bearer,cookie":   {"bearer", "cookie"},
			" Bearer ,COOKIE": {"bearer", "cookie"},
		} {
			c, err := Load(env(map[string]string{"TOKEN_METHOD": in}))
			require.NoError(t, err, "input %q", in)
			require.Equal(t, want, c.TokenMethods, "input %q", in)
			require.Equal(t, strings.Contains(strings.ToLower(in), "cookie"), c.UsesCookie(), "input %q", in)
			require.Equal(t, strings.Contains(strings.ToLower(in), "bearer"), c.UsesBearer(), "input %q", in)
		}
	})

	t.Run("EachInvalidValueReported", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name, value string
			wantErr     string
		}{
			{"AUTH_TOKEN_HEADER_KEY", "bad key", `AUTH_TOKEN_HEADER_KEY: "bad key" is not a valid HTTP header name (use letters, digits and !#$%&'*+-.^_` + "`" + `|~)`},
			{"AUTH_TOKEN_HEADER_KEY", "", `AUTH_TOKEN_HEADER_KEY: "" is not a valid HTTP header name`},
			{"BCRYPT_COST", "3", `BCRYPT_COST: 3 is out of range (use 4..31)`},
			{"BCRYPT_COST", "32", `BCRYPT_COST: 32 is out of range (use 4..31)`},
			{"BCRYPT_COST", "twelve", `BCRYPT_COST: "twelve" is not a whole number (use 4..31)`},
			{"CHANNEL_TOKEN_KEY", "vendure:token", `CHANNEL_TOKEN_KEY: "vendure:token" is not a valid HTTP header name`},
			{"COOKIE_NAME", "my session", `COOKIE_NAME: "my session" is not a valid cookie name`},
			{"COOKIE_NAME", "a=b", `COOKIE_NAME: "a=b" is not a valid cookie name`},
			{"COOKIE_NAME", "", `COOKIE_NAME: "" is not a valid cookie name`},
			{"CLEAN_SESSIONS_BATCH_SIZE", "0", `CLEAN_SESSIONS_BATCH_SIZE: 0 is out of range (use 1..100000)`},
			{"CLEAN_SESSIONS_BATCH_SIZE", "100001", `CLEAN_SESSIONS_BATCH_SIZE: 100001 is out of range (use 1..100000)`},
			{"CLEAN_SESSIONS_BATCH_SIZE", "1e3", `CLEAN_SESSIONS_BATCH_SIZE: "1e3" is not a whole number (use 1..100000)`},
			{"CLEAN_SESSIONS_SCHEDULE", "0 0 * *", `CLEAN_SESSIONS_SCHEDULE: "0 0 * *" is not a cron schedule: expected exactly 5 fields, found 4: [0 0 * *] (use five cron fields such as "0 0 * * *" (daily at 00:00 UTC), optionally after CRON_TZ=Zone, a descriptor such as @daily or @every 6h, or off)`},
			{"CLEAN_SESSIONS_SCHEDULE", "0 25 * * *", `CLEAN_SESSIONS_SCHEDULE: "0 25 * * *" is not a cron schedule: end of range (25) above maximum (23): 25`},
			{"CLEAN_SESSIONS_SCHEDULE", "0 0 30 2 *", `CLEAN_SESSIONS_SCHEDULE: "0 0 30 2 *" never runs`},
			{"CLEAN_SESSIONS_SCHEDULE", "", `CLEAN_SESSIONS_SCHEDULE: "" is not a cron schedule`},
			{"CLEAN_SESSIONS_TIME_BUDGET", "0", `CLEAN_SESSIONS_TIME_BUDGET: 0s is not positive`},
			{"CLEAN_SESSIONS_TIME_BUDGET", "soon", `CLEAN_SESSIONS_TIME_BUDGET: "soon" is not a duration`},
			{"COOKIE_SECURE", "maybe", `COOKIE_SECURE: "maybe" is neither auto nor a boolean (use auto, or use true/false, 1/0, yes/no or on/off)`},
			{"COOKIE_SECURE", "", `COOKIE_SECURE: "" is neither auto nor a boolean`},
			{"COOKIE_HOST_PREFIX", "sometimes", `COOKIE_HOST_PREFIX: "sometimes" is not a boolean`},
			{"COOKIE_NAME", "__Host-session", `COOKIE_NAME: "__Host-session" begins with a prefix browsers reserve (for __Host-, set COOKIE_HOST_PREFIX=true with a name without it)`},
			{"COOKIE_NAME", "__host-sid", `COOKIE_NAME: "__host-sid" begins with a prefix browsers reserve`},
			{"COOKIE_NAME", "__SECURE-sid", `COOKIE_NAME: "__SECURE-sid" begins with a prefix browsers reserve`},
			{"DATABASE_URL", "mysql://u@h/db", `DATABASE_URL: "mysql://u@h/db" has an unsupported scheme (use postgres://…, postgresql://…, sqlite://PATH or file:PATH, or leave it empty for ./data/sessionserver.db)`},
			{"DATABASE_URL", "./data/app.db", `DATABASE_URL: "./data/app.db" has an unsupported scheme`},
			{"DATABASE_URL", "sqlite://", `DATABASE_URL: "sqlite://" has no file path`},
			{"DATABASE_URL", "sqlite:app.db", `DATABASE_URL: "sqlite:app.db" is not a SQLite URL`},
			{"DATABASE_URL", "file:app.db?cache=shared", `DATABASE_URL: "file:app.db?cache=shared" has query parameters, which are not supported`},
			{"DATABASE_URL", "file://remote/app.db", `DATABASE_URL: "file://remote/app.db" is not a local file URL`},
			{"DATABASE_URL", "postgres:app", `DATABASE_URL: "postgres:app" is not a PostgreSQL URL`},
			{"DATABASE_URL", "postgres://u:p@h:port/db", `DATABASE_URL: "postgres://xxxxx@h:port/db" is not a valid URL`},
			// What the driver would refuse, and what the server would, now.
			{"DATABASE_URL", "postgres://u@h/db?bogus=1", `DATABASE_URL: "postgres://u@h/db?bogus=1" has an unknown parameter "bogus": neither a connection parameter nor a PostgreSQL setting a client may set (check its spelling; pass a setting this list lacks as options=-c bogus=…)`},
			{"DATABASE_URL", "postgres://u:pw@h/db?sslmdoe=require", `DATABASE_URL: "postgres://u:xxxxx@h/db?sslmdoe=require" has an unknown parameter "sslmdoe"`},
			{"DATABASE_URL", "postgres://u@h/db?sslmode=sometimes", `DATABASE_URL: "postgres://u@h/db?sslmode=sometimes" cannot be used: failed to configure TLS (sslmode is invalid)`},
			{"DATABASE_URL", "postgres://u@h/db?connect_timeout=soon", `DATABASE_URL: "postgres://u@h/db?connect_timeout=soon" cannot be used: invalid connect_timeout`},
			{"DATABASE_URL", "postgres://u@h/db?pool_max_conns=lots", `DATABASE_URL: "postgres://u@h/db?pool_max_conns=lots" cannot be used: cannot parse pool_max_conns`},
			{"DATABASE_URL", "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", `DATABASE_URL: "postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem" cannot be used: failed to configure TLS`},
			{"DATABASE_URL", "POSTGRES://h/db", `DATABASE_URL: "POSTGRES://h/db" has an upper-case scheme (write postgres:// or postgresql://)`},
			{"INTROSPECTION", "enabled", `INTROSPECTION: "enabled" is not a boolean`},
			{"LOG_LEVEL", "verbose", `LOG_LEVEL: "verbose" is not a log level (use debug, info, warn or error, optionally with an offset such as info+2)`},
			{"LOG_LEVEL", "warning", `LOG_LEVEL: "warning" is not a log level`},
			{"LOG_LEVEL", "info+", `LOG_LEVEL: "info+" is not a log level`},
			{"LOG_LEVEL", "4", `LOG_LEVEL: "4" is not a log level`},
			{"LOG_LEVEL", "", `LOG_LEVEL: "" is not a log level`},
			{"GUEST_SESSIONS", "never", `GUEST_SESSIONS: "never" is not a guest-session mode (use lazy or eager)`},
			{"GUEST_ADDRESS_LIMIT", "-1", `GUEST_ADDRESS_LIMIT: -1 is negative (use 0 (no limit) or more)`},
			{"GUEST_ADDRESS_LIMIT", "many", `GUEST_ADDRESS_LIMIT: "many" is not a whole number`},
			{"GUEST_ADDRESS_WINDOW", "0", `GUEST_ADDRESS_WINDOW: 0s is not positive`},
			{"GUEST_CACHE_LIMIT", "-5", `GUEST_CACHE_LIMIT: -5 is negative`},
			{"ANONYMOUS_CART_IDLE_TIMEOUT", "0", `ANONYMOUS_CART_IDLE_TIMEOUT: 0s is not positive`},
			{"LOG_FORMAT", "logfmt", `LOG_FORMAT: "logfmt" is not a log format (use text or json)`},
			{"LOG_FORMAT", "", `LOG_FORMAT: "" is not a log format`},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", `OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not a collector URL (use the collector's base URL, such as http://localhost:4318 (https for TLS), or leave it empty for no tracing)`},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://collector:4317", `OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" is not a collector URL`},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://", `OTEL_EXPORTER_OTLP_ENDPOINT: "http://" is not a collector URL`},
			{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:hunter2@collector:4318/?x=1", `OTEL_EXPORTER_OTLP_ENDPOINT: "http://u:xxxxx@collector:4318/?x=1" is not a collector URL`},
			{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", `OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" is not a protocol this server sends (use http/protobuf or grpc)`},
			{"OTEL_EXPORTER_OTLP_PROTOCOL", "", `OTEL_EXPORTER_OTLP_PROTOCOL: "" is not a protocol this server sends`},
			{"LOGOUT_SCOPE", "device", `LOGOUT_SCOPE: "device" is not a logout scope (use all or session)`},
			{"PLAYGROUND", "nope", `PLAYGROUND: "nope" is not a boolean`},
			{"PASSWORD_RESET_TOKEN_DURATION", "soon", `PASSWORD_RESET_TOKEN_DURATION: "soon" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"PASSWORD_RESET_TOKEN_DURATION", "0", `PASSWORD_RESET_TOKEN_DURATION: 0s is not positive`},
			{"METRICS_ADDR", "9090", `METRICS_ADDR: "9090" is not a host:port address (use host:port such as 127.0.0.1:9090, or leave it empty for no metrics)`},
			{"METRICS_ADDR", "localhost:http", `METRICS_ADDR: "localhost:http" has no port number 0..65535 (use host:port such as 127.0.0.1:9090`},
			{"METRICS_ADDR", ":70000", `METRICS_ADDR: ":70000" has no port number 0..65535`},
			{"METRICS_ADDR", ":+90", `METRICS_ADDR: ":+90" has no port number 0..65535`},
			{"METRICS_ADDR", "127.0.0.1:3000", `METRICS_ADDR: "127.0.0.1:3000" has the API's port (PORT=3000); the metrics need a port of their own`},
			{"PORT", "0", `PORT: 0 is out of range (use 1..65535)`},
			{"PORT", "65536", `PORT: 65536 is out of range (use 1..65535)`},
			{"PORT", "http", `PORT: "http" is not a whole number (use 1..65535)`},
			{"PORT", "3000.5", `PORT: "3000.5" is not a whole number`},
			{"REDIS_URL", "localhost:6379", `REDIS_URL: "localhost:6379" is not a Redis URL (use redis://[user:password@]host:port[/db], rediss://… for TLS, or leave it empty for no Redis)`},
			{"REDIS_URL", "http://cache:6379", `REDIS_URL: "http://cache:6379" is not a Redis URL`},
			{"REDIS_URL", "redis://:hunter2@cache:port", `REDIS_URL: "redis://xxxxx@cache:port" is not a Redis URL`},
			// What connecting would refuse, now (ParseRedisURL's rules).
			{"REDIS_URL", "redis://cache:6379?bogus=1", `REDIS_URL: "redis://cache:6379?bogus=1" cannot be used: redis: unexpected option: bogus (use redis://[user:password@]host:port[/db], rediss://… for TLS, or leave it empty for no Redis)`},
			{"REDIS_URL", "redis://:hunter2@cache:6379?dial_timeout=soon", `REDIS_URL: "redis://:xxxxx@cache:6379?dial_timeout=soon" cannot be used: redis: invalid dial_timeout duration`},
			{"REDIS_URL", "redis://cache:6379/x", `REDIS_URL: "redis://cache:6379/x" cannot be used: redis: invalid database number: "x"`},
			{"REDIS_URL", "redis://cache:6379?context_timeout_enabled=false", `REDIS_URL: "redis://cache:6379?context_timeout_enabled=false" cannot be used: context_timeout_enabled=false is not supported`},
			{"REDIS_URL", "redis://n1:6379/2?addr=n2:6379", `REDIS_URL: "redis://n1:6379/2?addr=n2:6379" cannot be used: Redis Cluster has only database 0, not 2`},
			{"REDIS_URL", "redis://s1?master_name=m&route_randomly=true", `REDIS_URL: "redis://s1?master_name=m&route_randomly=true" cannot be used: route_by_latency, route_randomly and replica_only read from replicas`},
			{"ANONYMOUS_IDLE_TIMEOUT", "a week", `ANONYMOUS_IDLE_TIMEOUT: "a week" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"ANONYMOUS_IDLE_TIMEOUT", "0", `ANONYMOUS_IDLE_TIMEOUT: 0s is not positive`},
			{"ANONYMOUS_SESSION_DURATION", "-1d", `ANONYMOUS_SESSION_DURATION: "-1d" is negative (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"ANONYMOUS_SESSION_DURATION", "0d", `ANONYMOUS_SESSION_DURATION: 0s is not positive`},
			{"REMEMBER_ME_DURATION", "forever", `REMEMBER_ME_DURATION: "forever" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"REMEMBER_ME_DURATION", "0", `REMEMBER_ME_DURATION: 0s is not positive (use a duration greater than zero, such as 30m, 7d, 1y)`},
			{"REQUIRE_VERIFICATION", "sometimes", `REQUIRE_VERIFICATION: "sometimes" is not a boolean`},
			{"SESSION_CACHE_SIZE", "0", `SESSION_CACHE_SIZE: 0 is too small (use 1 or more)`},
			{"SESSION_CACHE_SIZE", "-1", `SESSION_CACHE_SIZE: -1 is too small (use 1 or more)`},
			{"SESSION_CACHE_SIZE", "10k", `SESSION_CACHE_SIZE: "10k" is not a whole number (use 1 or more)`},
			{"SESSION_NEGATIVE_CACHE_SIZE", "-1", `SESSION_NEGATIVE_CACHE_SIZE: -1 is negative (use 0 (off) or more)`},
			{"SESSION_NEGATIVE_CACHE_TTL", "0", `SESSION_NEGATIVE_CACHE_TTL: 0s is not positive`},
			{"SESSION_IDLE_TIMEOUT", "1m", `SESSION_IDLE_TIMEOUT: 1m is too short (use 0 for none, or at least 5m: last use is recorded once a minute)`},
			{"SESSION_IDLE_TIMEOUT", "soon", `SESSION_IDLE_TIMEOUT: "soon" is not a duration (use seconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_METADATA_RETENTION", "0", `SESSION_METADATA_RETENTION: 0s is not positive`},
			{"SESSION_CACHE_MAX_BYTES", "lots", `SESSION_CACHE_MAX_BYTES: "lots" is not a size (use bytes or a size such as 256MiB or 1GB, or 0 for no bound in bytes)`},
			{"SESSION_CACHE_MAX_BYTES", "-1", `SESSION_CACHE_MAX_BYTES: "-1" is not a size`},
			{"SESSION_CACHE_MAX_BYTES", "10EiB", `SESSION_CACHE_MAX_BYTES: "10EiB" is not a size`},
			{"SESSION_CACHE_STRATEGY", "lru", `SESSION_CACHE_STRATEGY: "lru" is not a cache strategy (use memory, redis, redis+memory or noop)`},
			{"SESSION_CACHE_STRATEGY", "memory+redis", `SESSION_CACHE_STRATEGY: "memory+redis" is not a cache strategy (use memory, redis, redis+memory or noop)`},
			{"SESSION_CACHE_STRATEGY", "redis", `SESSION_CACHE_STRATEGY: "redis" needs REDIS_URL (set REDIS_URL, or use memory or noop)`},
			{"SESSION_CACHE_STRATEGY", "redis+memory", `SESSION_CACHE_STRATEGY: "redis+memory" needs REDIS_URL (set REDIS_URL, or use memory or noop)`},
			{"SESSION_CACHE_TTL", "5 minutes please", `SESSION_CACHE_TTL: "5 minutes please" is not a duration (use seconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_CACHE_TTL", "-300", `SESSION_CACHE_TTL: "-300" is negative (use seconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_CACHE_TTL", "0s", `SESSION_CACHE_TTL: 0s is not positive`},
			{"SESSION_CACHE_TIMEOUT", "fast", `SESSION_CACHE_TIMEOUT: "fast" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_CACHE_TIMEOUT", "0", `SESSION_CACHE_TIMEOUT: 0s is not positive`},
			{"SESSION_DURATION", "abc", `SESSION_DURATION: "abc" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_DURATION", "-5s", `SESSION_DURATION: "-5s" is negative (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_DURATION", "1000y", `SESSION_DURATION: "1000y" is too large (the maximum is about 292y) (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"SESSION_DURATION", "0d", `SESSION_DURATION: 0s is not positive`},
			{"SHUTDOWN_DRAIN", "later", `SHUTDOWN_DRAIN: "later" is not a duration`},
			{"SHUTDOWN_DRAIN", "-1s", `SHUTDOWN_DRAIN: "-1s" is negative`},
			{"SHUTDOWN_TIMEOUT", "soon", `SHUTDOWN_TIMEOUT: "soon" is not a duration`},
			{"SHUTDOWN_TIMEOUT", "0", `SHUTDOWN_TIMEOUT: 0s is not positive`},
			{"SUPERADMIN_IDENTIFIER", "", `SUPERADMIN_IDENTIFIER: is empty (set the superadmin's login name)`},
			{"SUPERADMIN_PASSWORD", "", `SUPERADMIN_PASSWORD: is empty (set the superadmin's password)`},
			{"SUPERADMIN_PASSWORD", strings.Repeat("p", 73), `SUPERADMIN_PASSWORD: is 73 bytes long (use at most 72 bytes, bcrypt's limit)`},
			{"VERIFICATION_TOKEN_DURATION", "a week", `VERIFICATION_TOKEN_DURATION: "a week" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)`},
			{"VERIFICATION_TOKEN_DURATION", "0ms", `VERIFICATION_TOKEN_DURATION: 0s is not positive`},
			{"TOKEN_METHOD", "jwt", `TOKEN_METHOD: "jwt" is not a token method (use cookie, bearer, or both as cookie,bearer or bearer,cookie)`},
			{"TOKEN_METHOD", "", `TOKEN_METHOD: "" is not a token method`},
			{"TOKEN_METHOD", "cookie,", `TOKEN_METHOD: "cookie," is not a token method`},
			{"TOKEN_METHOD", "cookie,cookie", `TOKEN_METHOD: "cookie,cookie" is not a token method`},
			{"TOKEN_METHOD", "cookie,bearer,cookie", `TOKEN_METHOD: "cookie,bearer,cookie" is not a token method`},
			{"TOKEN_METHOD", "cookie;bearer", `TOKEN_METHOD: "cookie;bearer" is not a token method`},
		}
		for _, tt := range tests {
			t.Run(tt.name+"="+tt.value, func(t *testing.T) {
				t.Parallel()

				c, err := Load(env(map[string]string{tt.name: tt.value}))
				require.Equal(t, Config{}, c)
				msgs := problems(t, err)
				require.Len(t, msgs, 1, "%q", msgs)
				require.True(t, strings.HasPrefix(msgs[0], tt.wantErr), "got %q\nwant prefix %q", msgs[0], tt.wantErr)
			})
		}
	})

	t.Run("SeveralInvalidValuesReportedTogether", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{
			"PORT":                   "99999",
			"SESSION_DURATION":       "abc",
			"SESSION_CACHE_TTL":      "-1",
			"COOKIE_SECURE":          "maybe",
			"SESSION_CACHE_STRATEGY": "redis",
			"TOKEN_METHOD":           "jwt",
			"LOG_LEVEL":              "trace",
			"BCRYPT_COST":            "x",
			"SUPERADMIN_PASSWORD":    "",
		}))
		msgs := problems(t, err)
		require.Len(t, msgs, 9, "%q", msgs)
		for _, name := range []string{
			"PORT", "SESSION_DURATION", "SESSION_CACHE_TTL", "COOKIE_SECURE", "SESSION_CACHE_STRATEGY",
			"TOKEN_METHOD", "LOG_LEVEL", "BCRYPT_COST", "SUPERADMIN_PASSWORD",
		} {
			require.Contains(t, err.Error(), name+": ")
		}
		// One problem per line, so a log shows them all.
		require.Len(t, strings.Split(err.Error(), "\n"), 9)
	})

	// A new user's first try: two URL mistakes that used to surface one at
	// a time, when connecting, are listed with the others at once.
	t.Run("URLMistakesReportedWithTheOthers", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{
			"DATABASE_URL": "postgres://app:dbsecret@db/app?bogus=1&sslmode=disable",
			"REDIS_URL":    "redis://:redissecret@cache:6379/0?bogus=1",
			"PORT":         "0",
		}))
		msgs := problems(t, err)
		require.Len(t, msgs, 3, "%q", msgs)
		require.Contains(t, err.Error(), `DATABASE_URL: "postgres://app:xxxxx@db/app?bogus=1&sslmode=disable" has an unknown parameter "bogus"`)
		require.Contains(t, err.Error(), `REDIS_URL: "redis://:xxxxx@cache:6379/0?bogus=1" cannot be used: redis: unexpected option: bogus`)
		require.Contains(t, err.Error(), "PORT: 0 is out of range")
		require.NotContains(t, err.Error(), "dbsecret")
		require.NotContains(t, err.Error(), "redissecret")
	})

	// Parameters the driver reads, settings a client may set (in any case),
	// custom settings and the startup options all pass.
	t.Run("PostgresParametersAccepted", func(t *testing.T) {
		t.Parallel()

		for _, u := range []string{
			"postgres://app:pw@db:5432/app?sslmode=disable&connect_timeout=5&application_name=shop&pool_max_conns=20&pool_min_conns=2",
			"postgresql://db/app?search_path=shop,public&statement_timeout=3s&TimeZone=UTC&DateStyle=ISO&lock_timeout=1s&idle_in_transaction_session_timeout=10s",
			"postgres://db/app?options=-c%20geqo%3Doff&myext.tenant=7&default_query_exec_mode=exec&statement_cache_capacity=128&target_session_attrs=read-write",
			"postgres:///app?host=/var/run/postgresql",
		} {
			_, err := Load(env(map[string]string{"DATABASE_URL": u}))
			require.NoError(t, err, u)
		}
	})

	t.Run("SecretsNotInErrors", func(t *testing.T) {
		t.Parallel()

		password := strings.Repeat("s3cret!", 11)
		_, err := Load(env(map[string]string{
			"SUPERADMIN_PASSWORD": password,
			"DATABASE_URL":        "mysql://app:dbsecret@db/app",
			"REDIS_URL":           "http://user:redissecret@cache",
		}))
		require.Len(t, problems(t, err), 3)
		for _, secret := range []string{password, "s3cret!", "dbsecret", "redissecret"} {
			require.NotContains(t, err.Error(), secret)
		}
	})

	t.Run("PasswordOf72BytesAccepted", func(t *testing.T) {
		t.Parallel()

		c, err := Load(env(map[string]string{"SUPERADMIN_PASSWORD": strings.Repeat("é", 36)}))
		require.NoError(t, err)
		require.Len(t, c.SuperadminPassword, 72)

		_, err = Load(env(map[string]string{"SUPERADMIN_PASSWORD": strings.Repeat("é", 36) + "x"}))
		require.ErrorContains(t, err, "is 73 bytes long")
	})

	t.Run("SecretsTakenVerbatim", func(t *testing.T) {
		t.Parallel()

		c, err := Load(env(map[string]string{
			"SUPERADMIN_IDENTIFIER": " admin ",
			"SUPERADMIN_PASSWORD":   " pass word ",
			"DEFAULT_CHANNEL_TOKEN": " tok ",
		}))
		require.NoError(t, err)
		require.Equal(t, " admin ", c.SuperadminIdentifier)
		require.Equal(t, " pass word ", c.SuperadminPassword)
		require.Equal(t, " tok ", c.DefaultChannelToken)
	})
}

func TestLoadSessionCacheStrategy(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"NoRedisMeansMemory", nil, "memory"},
		{"RedisURLMeansRedis", map[string]string{"REDIS_URL": "redis://localhost:6379"}, "redis"},
		{"RedisURLWithEmptyStrategyMeansRedis", map[string]string{"REDIS_URL": "redis://localhost:6379", "SESSION_CACHE_STRATEGY": " "}, "redis"},
		{"EmptyRedisURLMeansMemory", map[string]string{"REDIS_URL": ""}, "memory"},
		{"ExplicitMemoryWithRedis", map[string]string{"REDIS_URL": "redis://localhost:6379", "SESSION_CACHE_STRATEGY": "memory"}, "memory"},
		{"ExplicitNoopWithRedis", map[string]string{"REDIS_URL": "rediss://localhost:6380", "SESSION_CACHE_STRATEGY": "noop"}, "noop"},
		{"ExplicitRedis", map[string]string{"REDIS_URL": "redis://localhost:6379/1", "SESSION_CACHE_STRATEGY": "REDIS"}, "redis"},
		{"ExplicitNoop", map[string]string{"SESSION_CACHE_STRATEGY": "noop"}, "noop"},
		{"RedisAndMemory", map[string]string{"REDIS_URL": "redis://localhost:6379", "SESSION_CACHE_STRATEGY": " Redis+Memory "}, "redis+memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := Load(env(tt.vars))
			require.NoError(t, err)
			require.Equal(t, tt.want, c.SessionCacheStrategy)
		})
	}

	t.Run("InvalidRedisURLReportedOnce", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{"REDIS_URL": "cache:6379"}))
		msgs := problems(t, err)
		require.Len(t, msgs, 1, "%q", msgs)
		require.Contains(t, msgs[0], "REDIS_URL: ")
	})
}

func TestDatabaseDialect(t *testing.T) {
	t.Parallel()

	tests := []struct {
		url         string
		wantDialect string
		wantPath    string
	}{
		{"", "sqlite", "./data/sessionserver.db"},
		{"postgres://app:pw@localhost:5432/app?sslmode=disable", "postgres", ""},
		{"postgresql://localhost/app", "postgres", ""},
		{"postgres:///app?host=/var/run/postgresql", "postgres", ""},
		{"sqlite://./data/test.db", "sqlite", "./data/test.db"},
		{"sqlite://data/test.db", "sqlite", "data/test.db"},
		{"sqlite:///var/lib/app/app.db", "sqlite", "/var/lib/app/app.db"},
		{"sqlite://:memory:", "sqlite", ":memory:"},
		{"SQLite://app.db", "sqlite", "app.db"},
		{"file:app.db", "sqlite", "app.db"},
		{"file:./data/app.db", "sqlite", "./data/app.db"},
		{"file:/tmp/app.db", "sqlite", "/tmp/app.db"},
		{"file:///tmp/app.db", "sqlite", "/tmp/app.db"},
		{"file://localhost/tmp/app.db", "sqlite", "/tmp/app.db"},
		{"file::memory:", "sqlite", ":memory:"},
		// Invalid: Validate reports these, the accessors return "".
		{"mysql://localhost/app", "", ""},
		{"./data/app.db", "", ""},
		{"sqlite://", "", ""},
		{"file:", "", ""},
		{"file:app.db?mode=ro", "", ""},
		{"postgres:app", "", ""},
		{"POSTGRES://localhost/app", "", ""}, // pgx reads only lower-case schemes
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()

			c := Defaults()
			c.DatabaseURL = tt.url
			require.Equal(t, tt.wantDialect, c.DatabaseDialect())
			require.Equal(t, tt.wantPath, c.SQLitePath())
			if tt.wantDialect == "" {
				require.ErrorContains(t, c.Validate(), "DATABASE_URL: ")
			} else {
				require.NoError(t, c.Validate())
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		config Config
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		return &testBundle{config: Defaults()}
	}

	t.Run("UnknownAppEnv", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{"APP_ENV": "staging"}))
		require.ErrorContains(t, err, `APP_ENV: "staging" is not an environment (use development or production)`)
	})

	t.Run("ZeroConfigReportsEveryField", func(t *testing.T) {
		t.Parallel()

		msgs := problems(t, Config{}.Validate())
		var names []string
		for _, m := range msgs {
			name, _, _ := strings.Cut(m, ":")
			names = append(names, name)
		}
		// LOG_LEVEL is not among them: the zero slog.Level is slog.LevelInfo.
		// Nor are the fields whose zero means their consumer's default
		// (consumerDefaulted below).
		require.ElementsMatch(t, []string{
			"APP_ENV", "GUEST_ADDRESS_WINDOW", "BCRYPT_COST", "GUEST_SESSIONS", "LOGOUT_SCOPE", "ORDER_MERGE_STRATEGY",
			"PORT", "SESSION_CACHE_SIZE", "SESSION_CACHE_STRATEGY", "SESSION_NEGATIVE_CACHE_TTL", "SHUTDOWN_TIMEOUT",
			"SUPERADMIN_IDENTIFIER", "SUPERADMIN_PASSWORD", "TOKEN_METHOD",
			"COOKIE_SAMESITE", "COOKIE_SECURE", "PASSWORD_HASH_CONCURRENCY", "REQUEST_TIMEOUT",
			"LOG_FORMAT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		}, names)
	})

	// A field its consumer defaults may be zero in a Config built in code,
	// not negative; its variable, when set, may not be zero or empty.
	t.Run("ZeroMeansTheConsumersDefault", func(t *testing.T) {
		t.Parallel()

		zero := Defaults()
		require.NoError(t, zero.Validate())
		for name, set := range consumerDefaulted {
			c := Defaults()
			set(&c, -1)
			require.ErrorContains(t, c.Validate(), name+": ", "a negative %s", name)

			_, err := Load(env(map[string]string{name: "0"}))
			msgs := problems(t, err)
			require.Len(t, msgs, 1, "%q", msgs)
			require.True(t, strings.HasPrefix(msgs[0], name+": 0"), "%s=0: %q", name, msgs[0])
		}
		for _, name := range []string{"AUTH_TOKEN_HEADER_KEY", "CHANNEL_TOKEN_KEY", "COOKIE_NAME", "CLEAN_SESSIONS_SCHEDULE"} {
			_, err := Load(env(map[string]string{name: ""}))
			msgs := problems(t, err)
			require.Len(t, msgs, 1, "%q", msgs)
			require.True(t, strings.HasPrefix(msgs[0], name+`: ""`), "%s empty: %q", name, msgs[0])
		}
	})

	// Allow-list mode needs the list.
	t.Run("PersistedDocumentsOnly", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{"PERSISTED_DOCUMENTS_ONLY": "true", "ADMIN_PERSISTED_DOCUMENTS_ONLY": "true"}))
		require.Equal(t, []string{
			"PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS (the file of the documents that may run)",
			"ADMIN_PERSISTED_DOCUMENTS_ONLY: needs ADMIN_PERSISTED_DOCUMENTS (the file of the documents that may run)",
		}, problems(t, err))
		_, err = Load(env(map[string]string{"PERSISTED_DOCUMENTS_ONLY": "true", "PERSISTED_DOCUMENTS": "documents.json"}))
		require.NoError(t, err)
	})

	t.Run("CookieAndCORS", func(t *testing.T) {
		t.Parallel()

		bundle := setup(t)
		bundle.config.CookieSameSite = "none"
		bundle.config.CookieSecure = "false"
		bundle.config.CORSOrigins = []string{"https://shop.example.com/", "null", "ftp://x", "*", "http://localhost:3001"}
		bundle.config.CookieDomain = "a;b"
		msgs := problems(t, bundle.config.Validate())
		require.Len(t, msgs, 5)
		require.Contains(t, msgs[0], `CORS_ORIGINS: "https://shop.example.com/" is not an origin`)
		require.Contains(t, msgs[1], `CORS_ORIGINS: "null" is not an origin`)
		require.Contains(t, msgs[2], `CORS_ORIGINS: "ftp://x" is not an origin`)
		require.Contains(t, msgs[3], `COOKIE_DOMAIN: "a;b" is not a domain`)
		require.Contains(t, msgs[4], `COOKIE_SAMESITE: "none" cannot be used with COOKIE_SECURE=false`)

		bundle.config.CookieSecure = "auto"
		bundle.config.CookieDomain = "example.com"
		bundle.config.CORSOrigins = []string{"*", "https://shop.example.com:8443"}
		require.NoError(t, bundle.config.Validate(), "none with auto: Secure on every request")
		bundle.config.CookieSecure = "true"
		require.NoError(t, bundle.config.Validate())
		bundle.config.CookieSecure = ""
		require.EqualError(t, bundle.config.Validate(), `COOKIE_SECURE: "" is neither auto nor a boolean (use auto, true or false)`)
	})

	// A __Host- cookie must be Secure, with Path=/ and no Domain, or
	// browsers drop it: each mistake is reported at start, together.
	t.Run("CookieHostPrefix", func(t *testing.T) {
		t.Parallel()

		_, err := Load(env(map[string]string{
			"COOKIE_HOST_PREFIX": "true", "COOKIE_DOMAIN": "example.com", "COOKIE_SECURE": "false",
		}))
		msgs := problems(t, err)
		require.Equal(t, []string{
			`COOKIE_HOST_PREFIX: cannot be used with COOKIE_DOMAIN="example.com" (a __Host- cookie has no Domain attribute; leave COOKIE_DOMAIN empty, or turn COOKIE_HOST_PREFIX off)`,
			`COOKIE_HOST_PREFIX: cannot be used with COOKIE_SECURE=false (a __Host- cookie must be Secure; use COOKIE_SECURE=auto or true)`,
		}, msgs)

		for _, secure := range []string{"auto", "true"} {
			c, err := Load(env(map[string]string{"COOKIE_HOST_PREFIX": "on", "COOKIE_SECURE": secure, "COOKIE_NAME": "sid"}))
			require.NoError(t, err, secure)
			require.True(t, c.CookieHostPrefix)
			require.Equal(t, "sid", c.CookieName, "the prefix is added where the cookie is written")
		}
	})

	t.Run("NegativeDuration", func(t *testing.T) {
		t.Parallel()

		bundle := setup(t)
		bundle.config.SessionDuration = -time.Hour
		require.EqualError(t, bundle.config.Validate(),
			"SESSION_DURATION: -1h is not positive (use a duration greater than zero, such as 30m, 7d, 1y)")
	})

	t.Run("RedisStrategyWithRedisURL", func(t *testing.T) {
		t.Parallel()

		for _, strategy := range []string{CacheRedis, CacheRedisMemory} {
			bundle := setup(t)
			bundle.config.SessionCacheStrategy = strategy
			require.Error(t, bundle.config.Validate(), strategy)
			bundle.config.RedisURL = "redis://localhost:6379"
			require.NoError(t, bundle.config.Validate(), strategy)
			bundle.config.RedisURL = "redis://s1:26379/0?addr=s2:26379&master_name=mymaster"
			require.NoError(t, bundle.config.Validate(), strategy+" with Sentinel")
		}
	})

	// A memory tier is confirmed by markers that one node delivers after
	// the messages published on it; on a Cluster, announcements made on
	// other nodes come over the cluster bus, unconfirmed.
	t.Run("RedisAndMemoryRefusesACluster", func(t *testing.T) {
		t.Parallel()

		for _, url := range []string{"redis://n1:6379?addr=n2:6379", "redis://endpoint:6379?cluster=true"} {
			bundle := setup(t)
			bundle.config.RedisURL = url
			bundle.config.SessionCacheStrategy = CacheRedis
			require.NoError(t, bundle.config.Validate(), url)
			bundle.config.SessionCacheStrategy = CacheRedisMemory
			require.EqualError(t, bundle.config.Validate(),
				`SESSION_CACHE_STRATEGY: "redis+memory" does not work with a Redis Cluster, which REDIS_URL is (use redis)`, url)
		}
	})

	t.Run("ValidateIsStrictAboutCase", func(t *testing.T) {
		t.Parallel()

		bundle := setup(t)
		bundle.config.LogoutScope = "Session" // Load lowers it; a Config built in code must be exact.
		require.ErrorContains(t, bundle.config.Validate(), `LOGOUT_SCOPE: "Session"`)
	})

	t.Run("NoProblemsIsNil", func(t *testing.T) {
		t.Parallel()

		bundle := setup(t)
		require.NoError(t, bundle.config.Validate())
	})
}

// TestLoadLogLevel checks that LOG_LEVEL takes slog's own spellings: the
// four names in any case, with white space around them and an optional
// offset, each giving the level slog would.
func TestLoadLogLevel(t *testing.T) {
	t.Parallel()

	for in, want := range map[string]slog.Level{
		"debug":   slog.LevelDebug,
		"INFO":    slog.LevelInfo,
		" Warn ":  slog.LevelWarn,
		"error":   slog.LevelError,
		"info+2":  slog.LevelInfo + 2,
		"ERROR-1": slog.LevelError - 1,
		"debug-4": slog.LevelDebug - 4,
	} {
		c, err := Load(env(map[string]string{"LOG_LEVEL": in}))
		require.NoError(t, err, "input %q", in)
		require.Equal(t, want, c.LogLevel, "input %q", in)
	}
}

func TestSessionCacheMaxBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"0":         0,
		"1048576":   1 << 20,
		"256MiB":    256 << 20,
		"1 GiB":     1 << 30,
		"1GB":       1_000_000_000,
		"512kb":     512_000,
		"1.5 MiB":   3 << 19,
		" 64 MB  ":  64_000_000,
		"2gib":      2 << 30,
		"100000000": 100_000_000,
	} {
		c, err := Load(env(map[string]string{"SESSION_CACHE_MAX_BYTES": in}))
		require.NoError(t, err, in)
		require.Equal(t, want, c.SessionCacheMaxBytes, in)
	}
	c := Defaults()
	c.SessionCacheMaxBytes = -1
	require.ErrorContains(t, c.Validate(), "SESSION_CACHE_MAX_BYTES: -1 is negative")
}

// SHUTDOWN_DRAIN=0 is no drain; a negative drain built in code is refused.
func TestShutdownDrain(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"SHUTDOWN_DRAIN": "0"}))
	require.NoError(t, err)
	require.Zero(t, c.ShutdownDrain)
	c = Defaults()
	c.ShutdownDrain = -time.Second
	require.ErrorContains(t, c.Validate(), "SHUTDOWN_DRAIN: -1s is negative (use 0 for no drain, or a duration such as 5s)")
}

// consumerDefaulted sets, by variable, each number whose zero value means
// its consumer's default.
var consumerDefaulted = map[string]func(*Config, int){
	"ANONYMOUS_CART_IDLE_TIMEOUT":   func(c *Config, n int) { c.AnonymousCartIdleTimeout = time.Duration(n) },
	"ANONYMOUS_IDLE_TIMEOUT":        func(c *Config, n int) { c.AnonymousIdleTimeout = time.Duration(n) },
	"ANONYMOUS_SESSION_DURATION":    func(c *Config, n int) { c.AnonymousSessionDuration = time.Duration(n) },
	"APQ_CACHE_BYTES":               func(c *Config, n int) { c.APQCacheBytes = int64(n) },
	"APQ_TTL":                       func(c *Config, n int) { c.APQTTL = time.Duration(n) },
	"CLEAN_SESSIONS_BATCH_SIZE":     func(c *Config, n int) { c.CleanSessionsBatchSize = n },
	"CLEAN_SESSIONS_TIME_BUDGET":    func(c *Config, n int) { c.CleanSessionsTimeBudget = time.Duration(n) },
	"DB_QUERY_TIMEOUT":              func(c *Config, n int) { c.DBQueryTimeout = time.Duration(n) },
	"MAX_QUERY_ALIASES":             func(c *Config, n int) { c.MaxQueryAliases = n },
	"MAX_QUERY_DEPTH":               func(c *Config, n int) { c.MaxQueryDepth = n },
	"MAX_QUERY_FIELDS":              func(c *Config, n int) { c.MaxQueryFields = n },
	"MAX_QUERY_FRAGMENTS":           func(c *Config, n int) { c.MaxQueryFragments = n },
	"MAX_QUERY_TOKENS":              func(c *Config, n int) { c.MaxQueryTokens = n },
	"PASSWORD_RESET_TOKEN_DURATION": func(c *Config, n int) { c.PasswordResetTokenDuration = time.Duration(n) },
	"REMEMBER_ME_DURATION":          func(c *Config, n int) { c.RememberMeDuration = time.Duration(n) },
	"SESSION_CACHE_TTL":             func(c *Config, n int) { c.SessionCacheTTL = time.Duration(n) },
	"SESSION_CACHE_TIMEOUT":         func(c *Config, n int) { c.SessionCacheTimeout = time.Duration(n) },
	"SESSION_DURATION":              func(c *Config, n int) { c.SessionDuration = time.Duration(n) },
	"THROTTLE_MEMORY_KEYS":          func(c *Config, n int) { c.Throttle.MemoryKeys = n },
	"THROTTLE_REDIS_TIMEOUT":        func(c *Config, n int) { c.Throttle.RedisTimeout = time.Duration(n) },
	"VERIFICATION_TOKEN_DURATION":   func(c *Config, n int) { c.VerificationTokenDuration = time.Duration(n) },
}
