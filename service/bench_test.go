package service_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/sessioncache"
)

// BenchmarkGetSessionFromToken measures the hot path of every request: a
// cache hit (memory, Redis) and a miss served by the database (noop cache:
// one indexed query per lookup).
func BenchmarkGetSessionFromToken(b *testing.B) {
	b.Run("hit/memory", func(b *testing.B) {
		mem, err := sessioncache.NewMemory(10000)
		if err != nil {
			b.Fatal(err)
		}
		benchLookup(b, testenv.SQLiteDB(b), mem)
	})
	b.Run("hit/miniredis", func(b *testing.B) {
		client, _ := testenv.Miniredis(b)
		benchLookup(b, testenv.SQLiteDB(b), sessioncache.NewRedis(client, sessioncache.RedisOptions{KeyPrefix: testenv.RandomPrefix()}))
	})
	if os.Getenv(testenv.RedisURLEnv) != "" {
		b.Run("hit/redis", func(b *testing.B) {
			client, _ := testenv.Redis(b)
			cache := sessioncache.NewRedis(client, sessioncache.RedisOptions{KeyPrefix: testenv.RandomPrefix()})
			b.Cleanup(func() { _ = cache.Clear(context.Background()) })
			benchLookup(b, testenv.SQLiteDB(b), cache)
		})
	}
	b.Run("miss/sqlite", func(b *testing.B) { benchLookup(b, testenv.SQLiteDB(b), sessioncache.Noop{}) })
	if os.Getenv(testenv.PostgresURLEnv) != "" {
		b.Run("miss/postgres", func(b *testing.B) { benchLookup(b, testenv.PostgresDB(b), sessioncache.Noop{}) })
	}
}

// benchLookup logs the superadmin in and looks its token up b.N times.
func benchLookup(b *testing.B, db *bun.DB, cache sessioncache.Strategy) {
	ctx := context.Background()
	hasher, err := password.NewBcrypt(4)
	if err != nil {
		b.Fatal(err)
	}
	if err := service.Seed(ctx, db, hasher, time.Now(), service.SeedConfig{SuperadminIdentifier: "superadmin", SuperadminPassword: "superadmin"}); err != nil {
		b.Fatal(err)
	}
	sessions, err := service.NewSessionService(service.SessionConfig{DB: db, Cache: cache})
	if err != nil {
		b.Fatal(err)
	}
	authSvc, err := service.NewAuthService(service.AuthConfig{DB: db, Sessions: sessions, Hasher: hasher})
	if err != nil {
		b.Fatal(err)
	}
	s, err := authSvc.Authenticate(ctx, service.LoginRequest{
		API: "admin", Method: service.NativeStrategyName, ChannelID: 1,
		Native: &service.Credentials{Username: "superadmin", Password: "superadmin"},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sessions.GetSessionFromToken(ctx, s.Token); err != nil {
			b.Fatal(err)
		}
	}
}
