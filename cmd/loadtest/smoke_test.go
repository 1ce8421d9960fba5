package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.PostgreSQL, testenv.RedisServer) }

// startInProcess serves the app built from env (serverEnv's variables, as
// the server process would read them) on an httptest server. With a Redis
// client, the app uses it under a key prefix of its own, removed at the
// end.
func startInProcess(t *testing.T, env []string, rc redis.UniversalClient) string {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	require.NoError(t, err)
	opts := app.Options{Logger: slog.New(slog.DiscardHandler)}
	if rc != nil {
		opts.Redis, opts.RedisKeyPrefix = rc, testenv.RandomPrefix()
		t.Cleanup(func() {
			ctx := context.Background()
			iter := rc.Scan(ctx, 0, opts.RedisKeyPrefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				_ = rc.Del(ctx, iter.Val()).Err()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// Every case, prepared and run by the command's own code against the real
// handler for the shortest window (each worker sends one measured request
// at least), gets only the answers it expects. Nothing about speed is
// checked.
func TestEveryCaseRunsWithoutErrors(t *testing.T) {
	t.Parallel()
	type backend struct {
		name  string
		start func(t *testing.T) string
	}
	backends := []backend{{configSQLiteMemory, func(t *testing.T) string {
		env := serverEnv(nil, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), "")
		return startInProcess(t, append(env, "BCRYPT_COST=4"), nil)
	}}}
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		backends = append(backends, backend{configPostgresRedis, func(t *testing.T) string {
			rc, mr := testenv.Redis(t)
			redisURL := os.Getenv(testenv.RedisURLEnv)
			if mr != nil {
				redisURL = "redis://" + mr.Addr() + "/0"
			}
			env := serverEnv(nil, testenv.PostgresURL(t), redisURL)
			return startInProcess(t, append(env, "BCRYPT_COST=4"), rc)
		}})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			base := b.start(t)
			const conns = 3
			f := newFixtures(base, 4, conns)
			client := newClient(conns)
			t.Cleanup(client.CloseIdleConnections)
			ctx := context.Background()
			for _, c := range cases {
				tg, err := c.prepare(ctx, f)
				require.NoError(t, err, c.name)
				r, err := generate(ctx, client, tg, loadSpec{Conns: conns, Duration: time.Nanosecond, MinPerWorker: 1})
				require.NoError(t, err, c.name)
				require.GreaterOrEqual(t, r.Requests, conns, c.name)
				require.Zero(t, r.Errors, "%s: %s", c.name, r.FirstError)
			}
		})
	}
}
