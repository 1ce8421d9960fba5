package service_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/service/clientinfo"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/seed"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/throttle"
)

// BenchmarkLogin compares a login with a wrong password (one bcrypt
// comparison at the default cost, 12) with a throttled one, which is
// refused before the user's lookup and any hash: with the in-memory
// limiter, and with Redis (miniredis; a real one with TEST_REDIS_URL).
func BenchmarkLogin(b *testing.B) {
	const cost = 12
	b.Run("wrong-password", func(b *testing.B) { benchLogin(b, cost, nil, false) })
	b.Run("throttled/memory", func(b *testing.B) {
		benchLogin(b, cost, throttle.NewMemory(throttle.MemoryOptions{}), true)
	})
	b.Run("throttled/miniredis", func(b *testing.B) {
		client, _ := testenv.Miniredis(b)
		benchLogin(b, cost, throttle.NewRedis(client, throttle.RedisOptions{KeyPrefix: testenv.RandomPrefix()}), true)
	})
	if os.Getenv(testenv.RedisURLEnv) != "" {
		b.Run("throttled/redis", func(b *testing.B) {
			client, _ := testenv.Redis(b)
			benchLogin(b, cost, throttle.NewRedis(client, throttle.RedisOptions{KeyPrefix: testenv.RandomPrefix()}), true)
		})
	}
}

// benchLogin logs in as the superadmin with a wrong password b.N times.
// With a limiter, one failure is allowed (LoginFailures 1/1h) and made
// before the timer starts, so every measured attempt is refused.
func benchLogin(b *testing.B, cost int, limiter ratelimit.Limiter, throttled bool) {
	ctx := clientinfo.With(context.Background(), clientinfo.Info{Address: "203.0.113.1"})
	db := testenv.SQLiteDB(b)
	hasher, err := password.NewBcrypt(cost)
	if err != nil {
		b.Fatal(err)
	}
	if err := seed.Seed(ctx, db, hasher, time.Now(), seed.Config{SuperadminIdentifier: "superadmin", SuperadminPassword: "superadmin"}); err != nil {
		b.Fatal(err)
	}
	sessions, err := session.New(session.Config{DB: db, Cache: nil})
	if err != nil {
		b.Fatal(err)
	}
	var th *ratelimit.Throttle
	if limiter != nil {
		limits := ratelimit.DefaultLimits()
		limits.LoginFailures = throttle.Rate{Limit: 1, Window: time.Hour}
		if th, err = ratelimit.New(ratelimit.Config{Limiter: limiter, Limits: limits}); err != nil {
			b.Fatal(err)
		}
	}
	authSvc, err := account.NewAuthService(account.AuthConfig{DB: db, Sessions: sessions, Hasher: hasher, Throttle: th})
	if err != nil {
		b.Fatal(err)
	}
	req := account.LoginRequest{
		API: "admin", Method: account.NativeStrategyName, ChannelID: 1,
		Native: &account.Credentials{Username: "superadmin", Password: "wrong"},
	}
	if throttled {
		if _, err := authSvc.Authenticate(ctx, req); !errors.As(err, new(*outcome.InvalidCredentialsError)) {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := authSvc.Authenticate(ctx, req)
		var tooMany *outcome.TooManyRequestsError
		var invalid *outcome.InvalidCredentialsError
		if (throttled && !errors.As(err, &tooMany)) || (!throttled && !errors.As(err, &invalid)) {
			b.Fatal(err)
		}
	}
}
