package config

import "slices"

// Values of CookieSecure.
const (
	CookieSecureAuto  = "auto"
	CookieSecureFalse = "false"
	CookieSecureTrue  = "true"
)

// HostCookiePrefix is the prefix CookieHostPrefix puts before CookieName.
const HostCookiePrefix = "__Host-"

// Values of DatabaseDialect: the dialect names database.Open takes.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Values of SessionCacheStrategy.
const (
	CacheMemory = "memory"
	CacheNoop   = "noop"
	CacheRedis  = "redis"
	// CacheRedisMemory is Redis with an LRU of this process in front of it
	// (redis+memory).
	CacheRedisMemory = "redis+memory"
)

// Values of AppEnv.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Production reports whether AppEnv is production.
func (c Config) Production() bool { return c.AppEnv == EnvProduction }

// Values of LogFormat.
const (
	LogText = "text"
	LogJSON = "json"
)

// Values of OTLPProtocol: OTEL_EXPORTER_OTLP_PROTOCOL's, less http/json.
const (
	OTLPHTTP = "http/protobuf"
	OTLPGRPC = "grpc"
)

// Tracing reports whether traces are sent (OTLPEndpoint is set).
func (c Config) Tracing() bool { return c.OTLPEndpoint != "" }

// Values of GuestSessions.
const (
	GuestLazy  = "lazy"
	GuestEager = "eager"
)

// Values of LogoutScope.
const (
	LogoutAll     = "all"
	LogoutSession = "session"
)

// Values of OrderMergeStrategy: Vendure's class names.
const (
	MergeOrdersStrategy             = "MergeOrdersStrategy"
	UseGuestStrategy                = "UseGuestStrategy"
	UseExistingStrategy             = "UseExistingStrategy"
	UseGuestIfExistingEmptyStrategy = "UseGuestIfExistingEmptyStrategy"
)

// Values of TokenMethods.
const (
	TokenBearer = "bearer"
	TokenCookie = "cookie"
)

// UsesBearer reports whether clients may send the session token as a bearer
// token.
func (c Config) UsesBearer() bool { return slices.Contains(c.TokenMethods, TokenBearer) }

// UsesCookie reports whether clients may send the session token in a cookie.
func (c Config) UsesCookie() bool { return slices.Contains(c.TokenMethods, TokenCookie) }
