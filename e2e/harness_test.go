// Package e2e_test drives the real HTTP handler (app.New, as server.go
// builds it) with the GraphQL documents a storefront sends, reading tokens
// from the vendure-auth-token header and the session cookie.
package e2e_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// backend is one database + cache combination the suites run on.
type backend struct {
	name    string
	dialect string
	cache   string // memory | redis | redis+memory
}

// usesRedis reports whether the cache strategy is Redis, alone or with
// its memory tier.
func usesRedis(cache string) bool { return cache == "redis" || cache == "redis+memory" }

// backends: SQLite with the memory and Redis caches always (Redis is
// miniredis unless TEST_REDIS_URL is set); PostgreSQL too when
// TEST_DATABASE_URL is set, with each. Redis with its memory tier
// (redis+memory) has its own tests, which run every revocation test on it
// (instances_test.go, memory_tier_test.go, resilience_test.go): the whole
// suite on it too made the race run of CI too long.
func backends() []backend {
	bs := []backend{{"sqlite+memory", "sqlite", "memory"}, {"sqlite+redis", "sqlite", "redis"}}
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		bs = append(bs, backend{"postgres+memory", "postgres", "memory"}, backend{"postgres+redis", "postgres", "redis"})
	}
	return bs
}

// eachBackend runs f once per backend as a subtest.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// env is one running server.
type env struct {
	t     testing.TB
	app   *app.App
	srv   *httptest.Server
	clock *testenv.Clock
	spy   *sessioncachetest.Spy
	db    *bun.DB
	// tokens receives the verification and password reset tokens the
	// server sends (account_test.go).
	tokens *tokenBox
	// redis and redisPrefix are the Redis client and key prefix of a
	// Redis backend whose client the harness made (nil otherwise).
	redis       redis.UniversalClient
	redisPrefix string
}

// envOption changes the test configuration.
type envOption func(*config.Config)

func withSession(duration, cacheTTL time.Duration) envOption {
	return func(c *config.Config) { c.SessionDuration, c.SessionCacheTTL = duration, cacheTTL }
}

// testCacheTimeout is SESSION_CACHE_TIMEOUT in the e2e tests: long enough
// for a loaded machine, short enough that a stopped cache fails a test
// quickly.
const testCacheTimeout = 5 * time.Second

// testRequestTimeout is REQUEST_TIMEOUT and DB_QUERY_TIMEOUT in the e2e
// tests, the test databases' own bound: long enough for a loaded machine
// to serve requests that queue on one lock (50 writes to one order), and
// below the test client's (testenv.ClientTimeout).
const testRequestTimeout = testenv.QueryTimeout

// withDBQueryTimeout sets DB_QUERY_TIMEOUT, which also bounds the session
// lookup and the channel resolution of each request.
func withDBQueryTimeout(d time.Duration) envOption {
	return func(c *config.Config) { c.DBQueryTimeout = d }
}

func withTokenMethods(methods ...string) envOption {
	return func(c *config.Config) { c.TokenMethods = methods }
}

// withMiniredis points the Redis cache at a given miniredis (tests that stop
// and restart it).
func withMiniredis(addr string) envOption {
	return func(c *config.Config) { c.RedisURL = "redis://" + addr + "/0" }
}

// withGuestSessions sets GUEST_SESSIONS: config.GuestLazy (the default)
// or config.GuestEager (every guest gets a row at once, as Vendure).
func withGuestSessions(mode string) envOption {
	return func(c *config.Config) { c.GuestSessions = mode }
}

func withRequireVerification(on bool) envOption {
	return func(c *config.Config) { c.RequireVerification = on }
}

// newEnv starts a server on backend b with Vendure's e2e settings: default
// channel token "e2e-default-channel", superadmin/superadmin.
func newEnv(t testing.TB, b backend, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, b, testenv.DialectDB(t, b.dialect), opts...)
}

// newEnvOn is newEnv on a given database of b's dialect (one with a query
// hook, for a test that counts or holds queries).
func newEnvOn(t testing.TB, b backend, db *bun.DB, opts ...envOption) *env {
	t.Helper()
	return newEnvWith(t, b, db, app.Options{}, opts...)
}

// newEnvWith is newEnvOn with app options of the test's own (a tracer
// provider, a logger); the harness sets the others.
func newEnvWith(t testing.TB, b backend, db *bun.DB, appOpts app.Options, opts ...envOption) *env {
	t.Helper()
	cfg := config.Defaults()
	cfg.BcryptCost = 4
	cfg.DefaultChannelToken = "e2e-default-channel"
	cfg.Playground = true
	cfg.Introspection = true
	cfg.SessionCacheStrategy = b.cache
	// Tests that assert exact outcomes (row counts, one order) must not
	// depend on the machine's load: a cache call a busy machine answers in
	// 80 ms, or a write that waits seconds for a lock, is not a failure
	// here. What a slow or stalled cache or database does to a request is
	// tested on purpose (instances_test.go, resilience_test.go,
	// stall_test.go, errors_test.go).
	cfg.SessionCacheTimeout = testCacheTimeout
	cfg.Throttle.RedisTimeout = testCacheTimeout
	cfg.RequestTimeout, cfg.DBQueryTimeout = testRequestTimeout, testRequestTimeout
	e := &env{t: t, clock: testenv.NewClock(), tokens: &tokenBox{}}
	for _, o := range opts {
		o(&cfg)
	}
	if usesRedis(b.cache) && strings.HasPrefix(cfg.RedisURL, "redis://") {
		// The test chose its own Redis: the app connects to it itself.
		appOpts.RedisKeyPrefix = testenv.RandomPrefix()
	} else if usesRedis(b.cache) {
		client, mr := testenv.Redis(t)
		appOpts.Redis = client
		appOpts.RedisKeyPrefix = testenv.RandomPrefix()
		e.redis, e.redisPrefix = client, appOpts.RedisKeyPrefix
		cfg.RedisURL = os.Getenv(testenv.RedisURLEnv)
		if mr != nil {
			cfg.RedisURL = "redis://" + mr.Addr() + "/0"
		}
	}
	if cfg.Notify == (config.NotifyConfig{}) {
		// No notifier configured: the tokens go to the box, at once.
		// A test that configures one gets it, through River's jobs.
		appOpts.Notifier = e.tokens
	}
	e.db = db
	appOpts.DB = e.db
	appOpts.NowFunc = e.clock.Now
	appOpts.Cache = func(s sessioncache.Strategy) sessioncache.Strategy {
		e.spy = sessioncachetest.NewSpy(s)
		return e.spy
	}
	a, err := app.New(context.Background(), cfg, appOpts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	if a.Tiered != nil {
		// The memory tier is in use before the test begins.
		require.NoError(t, a.Tiered.Confirm(context.Background()))
	}
	if r, ok := e.spy.Next().(interface{ Purge(context.Context) error }); ok {
		t.Cleanup(func() { _ = r.Purge(context.Background()) }) // Redis, alone or with its memory tier
	}
	e.app = a
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) admin(mode testenv.TokenMode) *testenv.Client {
	return testenv.NewClient(e.t, e.srv.URL+app.AdminPath, mode)
}

func (e *env) shop(mode testenv.TokenMode) *testenv.Client {
	return testenv.NewClient(e.t, e.srv.URL+app.ShopPath, mode)
}

// takeCalls returns the cache calls since the last take (or since the
// server started) and starts counting afresh; Held, the keys the cache
// holds, is not reset.
func (e *env) takeCalls() sessioncachetest.Calls {
	c := e.spy.Calls()
	e.spy.Reset()
	return c
}
