package e2e_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// ready returns the status and body of GET /ready on the server at base.
func ready(t *testing.T, base string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: testenv.ClientTimeout}
	resp, err := client.Get(base + "/ready")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// syncedWithCache waits until a round of a's background sync ends with the
// session cache in use.
func syncedWithCache(t *testing.T, a *app.App) {
	t.Helper()
	rounds := &a.CacheSync.TestSignals.Synced
	rounds.Discard()
	for rounds.WaitOrTimeout() != nil || !a.Sessions.CacheTrusted() {
		// Until a round ends with the cache in use.
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A Redis that is not reachable at start does not stop the server: it
// starts (with one warning), serves login and me from the database (the
// throttles count in its memory), /ready says the cache is degraded; once
// Redis answers, the background sync takes the cache back, and new
// sessions are cached in Redis again. A REDIS_URL that cannot be parsed
// still refuses to start.
func TestRedisDownAtStart(t *testing.T) {
	t.Parallel()
	for _, strategy := range sharedStrategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			mr := miniredis.NewMiniRedis()
			require.NoError(t, mr.Start())
			addr := mr.Addr()
			mr.Close() // its address refuses connections until Restart
			t.Cleanup(mr.Close)

			cfg := config.Defaults()
			cfg.BcryptCost = 4
			cfg.DefaultChannelToken = "e2e-default-channel"
			cfg.SessionCacheStrategy = strategy
			cfg.RedisURL = "redis://" + addr + "/0"
			cfg.RequestTimeout, cfg.DBQueryTimeout = testRequestTimeout, testRequestTimeout
			var log syncBuffer
			a, err := app.New(context.Background(), cfg, app.Options{
				DB: testenv.SQLiteDB(t), RedisKeyPrefix: testenv.RandomPrefix(),
				Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn})),
			})
			require.NoError(t, err, "an unreachable Redis stopped the start")
			t.Cleanup(func() { _ = a.Close() })
			a.CacheSync.TestSignals.Init(t)
			srv := httptest.NewServer(a.Handler())
			t.Cleanup(srv.Close)
			require.Contains(t, log.String(), `msg="redis is not reachable; serving from the database until it answers"`)
			require.False(t, a.Sessions.CacheTrusted())

			status, body := ready(t, srv.URL)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"degraded"}`, body)
			admin := testenv.NewClient(t, srv.URL+app.AdminPath, testenv.Bearer)
			requireLogin(t, admin)
			r := admin.Do(meQuery, nil)
			require.Empty(t, r.Errors)
			require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)
			require.Empty(t, mr.Keys())

			require.NoError(t, mr.Restart())
			syncedWithCache(t, a)
			other := testenv.NewClient(t, srv.URL+app.AdminPath, testenv.Bearer)
			requireLogin(t, other)
			require.NotEmpty(t, mr.Keys(), "the new session is cached in Redis")
			r = other.Do(meQuery, nil)
			require.Empty(t, r.Errors)
			r = admin.Do(meQuery, nil) // logged in during the outage
			require.Empty(t, r.Errors)
			require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)
			status, body = ready(t, srv.URL)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"ok"}`, body)
		})
	}

	t.Run("bad REDIS_URL", func(t *testing.T) {
		t.Parallel()
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		cfg.SessionCacheStrategy = config.CacheRedis
		cfg.RedisURL = "redis://127.0.0.1:6379/not-a-db"
		_, err := app.New(context.Background(), cfg, app.Options{DB: testenv.SQLiteDB(t)})
		require.ErrorContains(t, err, "REDIS_URL")
	})
}

// /ready follows the database: 503 naming it while PostgreSQL refuses
// connections or is stalled (each probe bounded), 200 once it is back,
// with no restart.
func TestReadyFollowsDatabaseOutage(t *testing.T) {
	t.Parallel()
	dbURL := testenv.PostgresURL(t) // skips without TEST_DATABASE_URL
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	proxy := testenv.NewProxy(t, u.Hostname()+":"+port)
	proxied := *u
	proxied.Host = proxy.Addr()
	e := newOwnDBEnv(t, proxied.String())

	status, body := ready(t, e.srv.URL)
	require.Equal(t, http.StatusOK, status, body)
	for _, cut := range []struct {
		name  string
		start func()
	}{{"refused", proxy.Refuse}, {"stalled", proxy.Stall}} {
		cut.start()
		status, body = ready(t, e.srv.URL)
		require.Equal(t, http.StatusServiceUnavailable, status, cut.name)
		require.Equal(t, `{"status":"error","database":"down","cache":"ok"}`, body, cut.name)
		status, _ = ready(t, e.srv.URL)
		require.Equal(t, http.StatusServiceUnavailable, status, cut.name)

		// Back: ready without a restart. A connection the pool kept from
		// before the cut fails once and is dropped; each probe tries up to
		// three, and the pool holds at most 10, so by the fourth probe a
		// load balancer sees it ready whatever the pool held.
		proxy.Resume()
		for range 4 {
			if status, body = ready(t, e.srv.URL); status == http.StatusOK {
				break
			}
			require.Equal(t, http.StatusServiceUnavailable, status, body)
		}
		require.Equal(t, http.StatusOK, status, "%s, then back: %s", cut.name, body)
		require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"ok"}`, body)
	}
}
