package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/migrations"
)

// getReady sends method /ready to srv and returns the status, the content
// type and the body.
func getReady(t *testing.T, srv *httptest.Server, method string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/ready", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func newReadyApp(t *testing.T, cfg config.Config, opts app.Options) (*app.App, *httptest.Server) {
	t.Helper()
	cfg.BcryptCost = 4
	a, err := app.New(t.Context(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

// TestReady: GET /ready answers 200 with every check named while the
// database answers and has this build's newest migration, on each
// database; 503 naming the migration when it is missing (a rollback under
// a running build), 503 naming the database when it does not answer, and
// 503 {"status":"draining"} once Drain is called. Other methods are
// refused by the router.
func TestReady(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		a, srv := newReadyApp(t, config.Defaults(), app.Options{DB: db})

		status, contentType, body := getReady(t, srv, http.MethodGet)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "application/json", contentType)
		require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"ok"}`+"\n", body)
		status, _, _ = getReady(t, srv, http.MethodPost)
		require.Equal(t, http.StatusMethodNotAllowed, status)

		dialect, err := migrations.DialectOf(db)
		require.NoError(t, err)
		newest, err := migrations.Newest(dialect)
		require.NoError(t, err)
		_, err = db.NewDelete().Table("bun_migrations").Where("name = ?", newest).Exec(t.Context())
		require.NoError(t, err)
		status, _, body = getReady(t, srv, http.MethodGet)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, `{"status":"error","database":"ok","migrations":"pending","cache":"ok"}`+"\n", body)

		require.NoError(t, db.Close()) // app.Options.DB is the caller's to close
		status, contentType, body = getReady(t, srv, http.MethodGet)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "application/json", contentType)
		require.Equal(t, `{"status":"error","database":"down","cache":"ok"}`+"\n", body)

		a.Drain()
		status, contentType, body = getReady(t, srv, http.MethodGet)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "application/json", contentType)
		require.Equal(t, `{"status":"draining"}`+"\n", body)
	})
}

// TestReadyCacheDegraded: with Redis gone (here: stalled, so the PING
// waits for its bound), /ready still answers 200, with the cache
// "degraded": the server serves from the database. Once Redis answers
// again and the background sync has taken the cache back, it is "ok".
func TestReadyCacheDegraded(t *testing.T) {
	t.Parallel()
	_, mr := testenv.Miniredis(t)
	proxy := testenv.NewProxy(t, mr.Addr())
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	cfg := config.Defaults()
	cfg.SessionCacheStrategy = config.CacheRedis
	cfg.RedisURL = "redis://" + mr.Addr() + "/0" // the client is given
	a, srv := newReadyApp(t, cfg, app.Options{DB: testenv.SQLiteDB(t), Redis: client, RedisKeyPrefix: testenv.RandomPrefix()})
	a.CacheSync.TestSignals.Init(t)

	status, _, body := getReady(t, srv, http.MethodGet)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"ok"}`+"\n", body)

	proxy.Stall()
	status, _, body = getReady(t, srv, http.MethodGet)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"degraded"}`+"\n", body)

	proxy.Refuse() // the stalled connections are reset
	proxy.Resume()
	rounds := &a.CacheSync.TestSignals.Synced
	rounds.Discard()
	for rounds.WaitOrTimeout() != nil || !a.Sessions.CacheTrusted() {
		// Until a round ends with the cache in use.
	}
	status, _, body = getReady(t, srv, http.MethodGet)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"ok"}`+"\n", body)
}

// TestReadyWhileCacheDown: a session cache the guard took out of use is
// "degraded" even while Redis answers a PING.
func TestReadyWhileCacheDown(t *testing.T) {
	t.Parallel()
	client, mr := testenv.Miniredis(t)
	cfg := config.Defaults()
	cfg.SessionCacheStrategy = config.CacheRedis
	cfg.RedisURL = "redis://" + mr.Addr() + "/0"
	a, srv := newReadyApp(t, cfg, app.Options{DB: testenv.SQLiteDB(t), Redis: client, RedisKeyPrefix: testenv.RandomPrefix()})
	a.CacheSync.Stop() // no sync brings the cache back meanwhile

	mr.SetError("LOADING Redis is loading the dataset in memory") // every command fails
	a.Sessions.ClearCache(context.Background())                   // a failed clear takes the cache out of use
	mr.SetError("")
	require.False(t, a.Sessions.CacheTrusted())
	status, _, body := getReady(t, srv, http.MethodGet)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, `{"status":"ok","database":"ok","migrations":"ok","cache":"degraded"}`+"\n", body)
}
