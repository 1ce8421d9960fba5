// Package app wires the server together from a config.Config: database,
// migrations, cache, services, seed data, background jobs (River) and the
// HTTP handler. server.go
// (package main) calls New and runs the process; the end-to-end tests call
// New too, so they exercise exactly what production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/graph/adminapi"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/graph/playground"
	"github.com/shopsession/sessionserver/graph/shopapi"
	"github.com/shopsession/sessionserver/internal/metrics"
	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/migrations"
	"github.com/shopsession/sessionserver/notify"
	"github.com/shopsession/sessionserver/persisted"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/order"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/throttle"
	"github.com/shopsession/sessionserver/tracing"
)

// Paths of the two APIs.
const (
	ShopPath  = "/shop-api"
	AdminPath = "/admin-api"
)

// Options are the parts a test may replace. The zero value is production.
type Options struct {
	// Logger defaults to a text logger at the configured level on stderr.
	Logger *slog.Logger
	// NowFunc defaults to time.Now.
	NowFunc func() time.Time
	// DB, when set, is used instead of opening cfg.DatabaseURL; it must be
	// migrated or migratable. App.Close does not close it.
	DB *bun.DB
	// Cache, when set, wraps the configured cache strategy (a test spy).
	Cache func(sessioncache.Strategy) sessioncache.Strategy
	// Redis, when set, is used instead of connecting to cfg.RedisURL.
	Redis redis.UniversalClient
	// RedisKeyPrefix defaults to sessioncache's "vendure-session-cache:";
	// tests sharing one Redis give each server its own.
	RedisKeyPrefix string
	// RedisCodec defaults to sessioncache.DefaultCodec(), this build's; a
	// test gives another build's to play a rolling deploy.
	RedisCodec *sessioncache.Codec
	// Notifier, when set, receives every message of the account flows
	// (tokens and notices) in-process, once the transaction that queued it
	// commits (account.SendAfterCommit), instead of the configured
	// notifier's River jobs: tests read tokens from it.
	Notifier notify.Sender
	// TracerProvider, when set, turns tracing on with it, whatever
	// OTEL_EXPORTER_OTLP_ENDPOINT says (a test's in-memory exporter); the
	// caller shuts it down. Without it, tracing is on when
	// OTEL_EXPORTER_OTLP_ENDPOINT is set, with a provider New builds and
	// Close shuts down, sending the spans it still holds.
	TracerProvider trace.TracerProvider
}

// App is a built server.
type App struct {
	// Config is the configuration New was given, with the defaults of the
	// packages that use it filled in (WithDefaults).
	Config   config.Config
	DB       *bun.DB
	Cache    sessioncache.Strategy
	Sessions *session.Service
	Auth     *account.AuthService
	Users    *access.UserService
	Channels *access.ChannelService
	Roles    *access.RoleService
	Orders   *order.Service
	Catalog  *catalog.Service
	Accounts *account.Service
	// Audit reads the audit log the services write.
	Audit *audit.Log
	// Jobs runs the background jobs on River and answers the Admin API's
	// job queries.
	Jobs *jobs.Runner
	// CacheSync is the background cache sync (outbox, recovery, failover
	// replay, and the channel and role changes of other instances).
	CacheSync *session.CacheSyncer
	// UsageWriter writes the sessions' last use and the sliding renewal of
	// cached sessions in the background.
	UsageWriter *session.UsageWriter
	// Tiered is the cache with SESSION_CACHE_STRATEGY=redis+memory (nil
	// otherwise): its listener is a background service too.
	Tiered *redisstore.Tiered
	// APQMemory holds the documents clients registered with automatic
	// persisted queries in this instance's memory: all of them without
	// Redis, those registered while Redis failed or was full with it. Nil
	// with APQ off.
	APQMemory *persisted.Memory
	// Metrics is the server's instrumentation with METRICS_ADDR set, nil
	// otherwise; MetricsServer serves it on that address, a background
	// service.
	Metrics       *metrics.Metrics
	MetricsServer *metrics.Server

	handler http.Handler
	// services are the background services, started in order at the end
	// of New and stopped in reverse order by Close, before the closers.
	services []startstop.Service
	closers  []func() error
	// redis is the client redisClient returned, if any.
	redis redis.UniversalClient
	// tracing is the tracer provider when tracing is on, else nil: then
	// no handler, hook or middleware of package tracing is installed.
	tracing trace.TracerProvider
	// redisDown: Redis did not answer at start (see redisClient).
	redisDown bool
	// newestMigration is the ID of this build's newest migration, which
	// /ready requires applied.
	newestMigration string
	// draining makes /ready answer 503 (Drain).
	draining atomic.Bool
}

// New builds the server: it opens and migrates the database, seeds it,
// builds the services and the HTTP handler, and starts the background
// services, which run until Close. Migrating and seeding hold the
// migration lock (migrations.Lock), so instances started together on one
// database all come up: they migrate and seed one at a time.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = WithDefaults(cfg)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	// Every line logged during a request carries its X-Request-Id.
	log = slog.New(requestctx.LogHandler(log.Handler()))
	now := opts.NowFunc
	if now == nil {
		now = time.Now
	}
	// Before anything is opened: a document that would never run is a
	// mistake to fix now.
	documents, err := loadDocuments(cfg, log)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if err := a.newMetrics(cfg, log, now); err != nil {
		return nil, err
	}

	// First in, so last out: Close shuts the provider down after
	// everything that could still end a span has stopped.
	if a.tracing, err = a.newTracing(ctx, cfg, opts); err != nil {
		return nil, err
	}

	a.DB = opts.DB
	if a.DB == nil {
		dsn := cfg.DatabaseURL
		if cfg.DatabaseDialect() == config.SQLite {
			dsn = cfg.SQLitePath()
		}
		if a.DB, err = database.Open(ctx, cfg.DatabaseDialect(), dsn, database.Options{QueryTimeout: cfg.DBQueryTimeout}); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.DB.Close)
	}
	if a.tracing != nil {
		// A copy of the handle with one more hook, for every service.
		a.DB = a.DB.WithQueryHook(tracing.NewQueryHook(a.tracing, a.DB.Dialect().Name()))
	}
	bcryptHasher, err := password.NewBcrypt(cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	// Every hash and check, seed and login alike, waits for one of
	// PASSWORD_HASH_CONCURRENCY slots within its request's deadline.
	hasher := password.NewRecordedPool(bcryptHasher, cfg.PasswordHashConcurrency, a.Metrics.PasswordPool())
	a.Metrics.WatchPasswordPool(hasher)
	// Seeding runs under the migration lock too: instances starting
	// together on an empty database seed it one after the other, and each
	// but the first finds the rows there.
	seed := func(ctx context.Context) error {
		if err := seed.Seed(ctx, a.DB, hasher, now(), seed.Config{
			DefaultChannelToken:  cfg.DefaultChannelToken,
			SuperadminIdentifier: cfg.SuperadminIdentifier,
			SuperadminPassword:   cfg.SuperadminPassword,
		}); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return nil
	}
	if err := migrations.RunWith(ctx, a.DB, migrations.Options{After: seed, Logger: log}); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := refuseDefaultPassword(ctx, a, hasher, cfg); err != nil {
		return nil, err
	}
	dialectName, err := migrations.DialectOf(a.DB)
	if err != nil {
		return nil, err
	}
	if a.newestMigration, err = migrations.Newest(dialectName); err != nil {
		return nil, err
	}
	warnIfSuperuser(ctx, a.DB, log)

	if a.Cache, err = a.newCache(ctx, cfg, opts, log, now); err != nil {
		return nil, err
	}
	prober, _ := a.Cache.(sessioncache.Prober) // a shared cache, probed in the background
	if opts.Cache != nil {
		a.Cache = opts.Cache(a.Cache)
	}

	if a.Sessions, err = session.New(session.Config{
		DB: a.DB, Cache: a.Cache, Prober: prober, CacheDown: a.redisDown, Logger: log, NowFunc: now,
		SessionDuration: cfg.SessionDuration, CacheTTL: cfg.SessionCacheTTL,
		AnonymousSessionDuration: cfg.AnonymousSessionDuration, AnonymousIdleTimeout: cfg.AnonymousIdleTimeout,
		AnonymousCartIdleTimeout: cfg.AnonymousCartIdleTimeout,
		GuestAddressLimit:        cfg.GuestAddressLimit, GuestAddressWindow: cfg.GuestAddressWindow,
		GuestCacheLimit:   cfg.GuestCacheLimit,
		LazyGuestSessions: cfg.GuestSessions == config.GuestLazy,
		QueryTimeout:      cfg.DBQueryTimeout,
		NegativeCacheSize: cfg.SessionNegativeCacheSize, NegativeCacheTTL: cfg.SessionNegativeCacheTTL,
		IdleTimeout: cfg.SessionIdleTimeout, MetadataRetention: cfg.SessionMetadataRetention,
		AssignCustomerFunc: access.AddUserToChannel,
		// The job runner needs the service as its cleaner, so it is
		// built below; the same holds.
		Jobs: enqueueFunc(func(ctx context.Context, batchSize int) (*jobs.Job, error) {
			return a.Jobs.EnqueueCleanSessions(ctx, batchSize)
		}),
		CleanSessionsBatchSize: cfg.CleanSessionsBatchSize,
		// The same holds for the ChannelService: the sync loop starts at
		// the end of New.
		AccessSyncFunc: func(ctx context.Context) (bool, error) { return a.Channels.Sync(ctx) },
		TraceQueryFunc: a.traceSessionQuery(),
		Metrics:        a.Metrics.Sessions(),
	}); err != nil {
		return nil, err
	}
	a.Metrics.WatchSessions(a.Sessions)
	// The one access-change hook: any committed channel or role change
	// clears the session cache, since cached sessions carry permissions.
	accessChanged := a.Sessions.ClearCache
	if a.Channels, err = access.NewChannelService(access.ChannelConfig{
		DB: a.DB, Sessions: a.Sessions, AccessChangeFunc: accessChanged, Logger: log, NowFunc: now,
	}); err != nil {
		return nil, err
	}
	if err := a.Channels.Reload(ctx); err != nil {
		return nil, err
	}
	a.CacheSync = session.NewCacheSyncer(a.Sessions, 0)
	a.UsageWriter = session.NewUsageWriter(a.Sessions, 0)
	a.Audit = audit.NewLog(a.DB)
	if a.Roles, err = access.NewRoleService(access.RoleConfig{
		DB: a.DB, AccessChangeFunc: accessChanged, NowFunc: now,
	}); err != nil {
		return nil, err
	}
	if a.Users, err = access.NewUserService(access.UserConfig{
		DB: a.DB, Sessions: a.Sessions, Hasher: hasher, NowFunc: now,
	}); err != nil {
		return nil, err
	}
	// Messages become River jobs in their transaction, delivered by the
	// configured notifier (the runner is built below; the same holds).
	var notifier account.Notifier = jobNotifier{app: a}
	sender, err := newSender(cfg, log)
	if err != nil {
		return nil, err
	}
	if opts.Notifier != nil {
		notifier = account.SendAfterCommit{Sender: opts.Notifier, Logger: log}
	}
	limits, err := a.newThrottle(ctx, cfg, opts, log, now)
	if err != nil {
		return nil, err
	}
	mergeStrategy, _ := order.MergeStrategyNamed(cfg.OrderMergeStrategy) // validated by config
	if a.Orders, err = order.New(order.Config{
		DB: a.DB, Sessions: a.Sessions, MergeStrategy: mergeStrategy, Logger: log, NowFunc: now,
		RequireVerification: cfg.RequireVerification,
		Throttle:            limits,
	}); err != nil {
		return nil, err
	}
	if a.Auth, err = account.NewAuthService(account.AuthConfig{
		DB: a.DB, Sessions: a.Sessions, Hasher: hasher, Logger: log, NowFunc: now, Orders: a.Orders,
		Throttle:                 limits,
		RequireVerification:      cfg.RequireVerification,
		LogoutCurrentSessionOnly: cfg.LogoutScope == config.LogoutSession,
		Metrics:                  a.Metrics.Logins(),
		Notifier:                 notifier, NotifyNewSignIn: cfg.Notify.NewSignIn,
	}); err != nil {
		return nil, err
	}
	if a.Catalog, err = catalog.New(catalog.Config{DB: a.DB, NowFunc: now}); err != nil {
		return nil, err
	}
	if a.Accounts, err = account.New(account.Config{
		DB: a.DB, Auth: a.Auth, Hasher: hasher, Notifier: notifier, Logger: log, NowFunc: now,
		RequireVerification:        cfg.RequireVerification,
		VerificationTokenDuration:  cfg.VerificationTokenDuration,
		PasswordResetTokenDuration: cfg.PasswordResetTokenDuration,
	}); err != nil {
		return nil, err
	}
	// Stopping River gives running jobs SHUTDOWN_TIMEOUT to finish, then
	// cancels them (they are retried) and waits as long again.
	if a.Jobs, err = jobs.New(jobs.Config{
		DB: a.DB, Cleaner: a.Sessions, Registrations: a.Accounts, Logger: log, NowFunc: now,
		Schedule: cfg.CleanSessionsSchedule, BatchSize: cfg.CleanSessionsBatchSize,
		TimeBudget: cfg.CleanSessionsTimeBudget, QueryTimeout: cfg.DBQueryTimeout,
		StopTimeout: cfg.ShutdownTimeout, CancelTimeout: cfg.ShutdownTimeout,
		Middleware: a.jobMiddleware(),
		Metrics:    a.Metrics.Jobs(),
		Sender:     sender, Tokens: a.Accounts,
		NotifyMaxAttempts: cfg.Notify.MaxAttempts, NotifyRetryDelay: cfg.Notify.RetryDelay, NotifyTimeout: cfg.Notify.Timeout,
	}); err != nil {
		return nil, err
	}
	apq, err := a.newDocumentStore(ctx, cfg, opts, log, now)
	if err != nil {
		return nil, err
	}
	a.handler = a.newHandler(log, documents, apq)

	a.services = []startstop.Service{a.CacheSync, a.UsageWriter, a.Jobs}
	if a.Tiered != nil {
		// Listening before the sync, whose probes confirm the listener.
		a.services = append([]startstop.Service{a.Tiered}, a.services...)
	}
	if a.MetricsServer != nil {
		// First to start and last to stop: shutting down shows in it.
		a.services = append([]startstop.Service{a.MetricsServer}, a.services...)
	}
	if err := startstop.StartAll(context.WithoutCancel(ctx), a.services...); err != nil {
		return nil, err
	}
	return a, nil
}

// enqueueFunc adapts a function to session.CleanSessionsEnqueuer.
type enqueueFunc func(ctx context.Context, batchSize int) (*jobs.Job, error)

func (f enqueueFunc) EnqueueCleanSessions(ctx context.Context, batchSize int) (*jobs.Job, error) {
	return f(ctx, batchSize)
}

func (a *App) newCache(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger, now func() time.Time) (sessioncache.Strategy, error) {
	memory := func() (*sessioncache.Memory, error) {
		return sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{
			MaxEntries: cfg.SessionCacheSize,
			MaxBytes:   cfg.SessionCacheMaxBytes,
		})
	}
	switch cfg.SessionCacheStrategy {
	case config.CacheNoop:
		return sessioncache.Noop{}, nil
	case config.CacheRedis, config.CacheRedisMemory:
		client, err := a.redisClient(ctx, cfg, opts, log)
		if err != nil {
			return nil, err
		}
		store := redisstore.New(client, redisstore.Options{
			KeyPrefix: opts.RedisKeyPrefix,
			Codec:     opts.RedisCodec,
			// An entry is stale after SESSION_CACHE_TTL and then only causes a
			// database read, exactly as a missing one does; expiring the key
			// then frees its memory (Vendure keeps it for 24 h).
			TTL:              cfg.SessionCacheTTL,
			OperationTimeout: cfg.SessionCacheTimeout,
		})
		if cfg.SessionCacheStrategy == config.CacheRedis {
			return store, nil
		}
		if _, cluster := client.(*redis.ClusterClient); cluster {
			// config refuses a Cluster URL; this is a client given whole.
			return nil, errors.New(`SESSION_CACHE_STRATEGY: "redis+memory" does not work with a Redis Cluster (use redis)`)
		}
		mem, err := memory()
		if err != nil {
			return nil, err
		}
		a.Tiered = redisstore.NewTiered(store, mem, redisstore.TieredOptions{NowFunc: now, Logger: log})
		return a.Tiered, nil
	default:
		return memory()
	}
}

// redisClient returns the one Redis client of the server (opts.Redis, or
// one connected to REDIS_URL on first use), or nil without Redis. A
// REDIS_URL that cannot be parsed is an error; a Redis that does not
// answer at start is not (see redisDown).
func (a *App) redisClient(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger) (redis.UniversalClient, error) {
	if a.redis != nil {
		return a.redis, nil
	}
	if opts.Redis != nil {
		a.redis = opts.Redis
		return opts.Redis, nil
	}
	if cfg.RedisURL == "" {
		return nil, nil
	}
	ropts, err := config.ParseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// go-redis logs each failed dial on its own; through slog, once a second.
	redis.SetLogger(redisstore.NewLogger(log, time.Second))
	client := ropts.NewClient()
	a.closers = append(a.closers, client.Close)
	if a.tracing != nil {
		if err := tracing.InstrumentRedis(client, a.tracing); err != nil {
			return nil, err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		// Not fatal: the session cache starts out of use (the database
		// serves) and the throttles count in this instance's memory
		// (throttle.Fallback) until the background sync finds Redis
		// answering.
		log.Warn("redis is not reachable; serving from the database until it answers",
			"addrs", ropts.Addrs(), "err", err)
		a.redisDown = true
	}
	a.redis = client
	return client, nil
}

// newThrottle builds the limits of THROTTLE_*: counted in Redis when there
// is one, falling back to this instance's memory while Redis fails (see
// throttle.Fallback), in memory otherwise; nil with THROTTLE=off.
func (a *App) newThrottle(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger, now func() time.Time) (*ratelimit.Throttle, error) {
	if !cfg.Throttle.Enabled {
		return nil, nil
	}
	var limiter ratelimit.Limiter = throttle.NewMemory(throttle.MemoryOptions{MaxKeys: cfg.Throttle.MemoryKeys, NowFunc: now})
	client, err := a.redisClient(ctx, cfg, opts, log)
	if err != nil {
		return nil, err
	}
	if client != nil {
		prefix := throttle.DefaultRedisKeyPrefix
		if opts.RedisKeyPrefix != "" {
			prefix = opts.RedisKeyPrefix + prefix
		}
		limiter = &throttle.Fallback{
			Primary:   throttle.NewRedis(client, throttle.RedisOptions{KeyPrefix: prefix, NowFunc: now, Timeout: cfg.Throttle.RedisTimeout}),
			Secondary: limiter,
			OnError: func(err error) {
				log.Warn("throttle: redis failed; counting in this instance's memory", "err", err)
			},
		}
	}
	return ratelimit.New(ratelimit.Config{
		Limiter: limiter, Limits: serviceLimits(cfg.Throttle.Limits), Logger: log, Metrics: a.Metrics.Throttle(),
	})
}

func (a *App) newHandler(log *slog.Logger, documents registeredDocuments, apq gqlutil.DocumentStore) http.Handler {
	cfg := a.Config

	// Validated by config.
	trustedProxies, _ := config.ParseTrustedProxies(cfg.TrustedProxies)
	// One CORS policy decides both which origins may read credentialed
	// answers and which may send the session cookie at all.
	origins := newCORSPolicy(cfg)
	mw := func(api auth.APIType) func(http.Handler) http.Handler {
		return requestctx.Middleware(requestctx.Config{
			APIType: api, Sessions: a.Sessions, Channels: a.Channels, Logger: log,
			UseCookie: cfg.UsesCookie(), UseBearer: cfg.UsesBearer(),
			AuthTokenHeaderKey: cfg.AuthTokenHeaderKey, ChannelTokenKey: cfg.ChannelTokenKey,
			CookieName: cookieName(cfg), CookieSecure: secureMode(cfg.CookieSecure),
			OriginAllowed:  origins.credentialedOrigin,
			CookieSameSite: sameSite(cfg.CookieSameSite), CookieDomain: cfg.CookieDomain,
			// SameSite=None serves storefronts on another site, whose
			// browsers may block third-party cookies (Chromium 156 does by
			// default) but keep partitioned ones.
			CookiePartitioned: cfg.CookieSameSite == "none",
			RememberMeMaxAge:  cfg.RememberMeDuration,
			// The lookup may read and renew the session: one database
			// call's bound (each statement also has its own, see
			// database.Open).
			LookupTimeout:  cfg.DBQueryTimeout,
			TrustedProxies: trustedProxies,
		})
	}
	extensions := func(api auth.APIType) []graphql.HandlerExtension {
		if a.tracing == nil {
			return nil
		}
		return []graphql.HandlerExtension{tracing.GraphQL{Tracer: a.tracing.Tracer(tracing.Name), API: string(api)}}
	}
	limits := queryLimits(cfg)
	// Both APIs share APQ's store: a document is stored under its hash, and
	// runs only where it validates.
	shopPersisted := gqlutil.Persisted{Store: apq, Only: cfg.PersistedDocumentsOnly}
	if documents.shop != nil {
		shopPersisted.Documents = documents.shop
	}
	adminPersisted := gqlutil.Persisted{Store: apq, Only: cfg.AdminPersistedDocumentsOnly}
	if documents.admin != nil {
		adminPersisted.Documents = documents.admin
	}
	shop := mw(auth.ShopAPI)(gqlutil.NewHandler(gqlutil.HandlerConfig{
		Schema: shopapi.NewSchema(&shopapi.Resolver{
			Auth: a.Auth, Users: a.Users, Orders: a.Orders, Accounts: a.Accounts, Sessions: a.Sessions, Channels: a.Channels,
		}), Logger: log, Title: "Shop API", Endpoint: ShopPath,
		Playground: cfg.Playground, Introspection: cfg.Introspection, Limits: limits, Persisted: shopPersisted,
		PlaygroundDocument: playground.ShopDocument, AuthTokenHeader: cfg.AuthTokenHeaderKey,
		Extensions: extensions(auth.ShopAPI),
		Metrics:    a.Metrics.GraphQL(auth.ShopAPI),
	}))
	admin := mw(auth.AdminAPI)(gqlutil.NewHandler(gqlutil.HandlerConfig{
		Schema: adminapi.NewSchema(&adminapi.Resolver{
			Auth: a.Auth, Users: a.Users, Sessions: a.Sessions, Channels: a.Channels, Roles: a.Roles, Catalog: a.Catalog, Jobs: a.Jobs,
			Audit:    a.Audit,
			Accounts: a.Accounts, Orders: a.Orders,
		}), Logger: log, Title: "Admin API", Endpoint: AdminPath,
		Playground: cfg.Playground, Introspection: cfg.Introspection, Limits: limits, Persisted: adminPersisted,
		PlaygroundDocument: playground.AdminDocument, AuthTokenHeader: cfg.AuthTokenHeaderKey,
		Extensions: extensions(auth.AdminAPI),
		Metrics:    a.Metrics.GraphQL(auth.AdminAPI),
	}))

	mux := http.NewServeMux()
	mux.Handle(ShopPath, shop)
	mux.Handle(AdminPath, admin)
	mux.HandleFunc("GET /health", a.health)
	mux.HandleFunc("GET /ready", a.ready)
	if cfg.Playground {
		// GraphiQL's scripts and styles, which the playground pages load.
		mux.Handle("GET "+playground.AssetsPath, playground.Assets())
	}
	// Every request gets an id (X-Request-Id, in its log lines) and a
	// deadline (REQUEST_TIMEOUT), and ends when its client leaves.
	h := requestctx.Scope(cfg.RequestTimeout)(origins.handler(mux))
	if a.tracing == nil {
		return h
	}
	// With tracing on, a server span around all of it, /health's probes
	// aside; the playground's assets are "GET" spans.
	return tracing.Handler(h, a.tracing, tracing.HTTPConfig{
		Routes:   []string{ShopPath, AdminPath},
		Untraced: []string{"/health"},
	})
}

// newTracing returns the tracer provider when tracing is on (see
// Options.TracerProvider), else nil.
func (a *App) newTracing(ctx context.Context, cfg config.Config, opts Options) (trace.TracerProvider, error) {
	if opts.TracerProvider != nil {
		return opts.TracerProvider, nil
	}
	if !cfg.Tracing() {
		return nil, nil
	}
	tp, err := tracing.NewProvider(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint, Protocol: cfg.OTLPProtocol})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() error {
		// The spans still held go out, within SHUTDOWN_TIMEOUT.
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return tp.Shutdown(sctx)
	})
	return tp, nil
}

// traceSessionQuery is session.Config.TraceQueryFunc: nil with tracing
// off.
func (a *App) traceSessionQuery() func(ctx context.Context, query string) (context.Context, func(error)) {
	if a.tracing == nil {
		return nil
	}
	return tracing.StatementFunc(a.tracing, a.DB.Dialect().Name(), "SELECT", "session")
}

// jobMiddleware is River's middleware: the tracing one with tracing on.
func (a *App) jobMiddleware() []rivertype.Middleware {
	if a.tracing == nil {
		return nil
	}
	return []rivertype.Middleware{tracing.RiverMiddleware(a.tracing)}
}

// Handler returns the HTTP handler serving both APIs, /health and /ready.
func (a *App) Handler() http.Handler { return a.handler }

// newMetrics builds the metrics and binds their listener when
// METRICS_ADDR is set: first, so that a taken address fails the start
// before the database is touched. The listener is served from the end of
// New (MetricsServer).
func (a *App) newMetrics(cfg config.Config, log *slog.Logger, now func() time.Time) error {
	if cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR=%s: %w", cfg.MetricsAddr, err)
	}
	// Stopping the server closes it too; this covers a failed New.
	a.closers = append(a.closers, func() error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	a.Metrics = metrics.New(metrics.Options{Logger: log, NowFunc: now})
	a.MetricsServer = metrics.NewServer(ln, a.Metrics.Handler(), log)
	return nil
}

// MetricsAddr returns the address the metrics are served on, or "" when
// METRICS_ADDR is not set.
func (a *App) MetricsAddr() string {
	if a.MetricsServer == nil {
		return ""
	}
	return a.MetricsServer.Addr().String()
}

// healthTimeout bounds /health's ping (or DB_QUERY_TIMEOUT when shorter),
// so a probe learns of a stalled database quickly.
const healthTimeout = 2 * time.Second

// health answers 200 when the database answers.
func (a *App) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), min(healthTimeout, a.Config.DBQueryTimeout))
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := a.DB.PingContext(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"error","database":"down"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// Close stops the background services, then releases what New opened.
// A service's failure to stop cleanly is logged, not returned.
func (a *App) Close() error {
	startstop.StopAll(a.services...)
	a.services = nil
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
