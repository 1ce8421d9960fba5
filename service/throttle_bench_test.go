package service_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service"
	"github.com/shopsession/sessionserver/service/password"
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
func benchLogin(b *testing.B, cost int, limiter service.Limiter, throttled bool) {
	ctx := service.WithClientAddress(context.Background(), "203.0.113.1")
	db := testenv.SQLiteDB(b)
	hasher, err := password.NewBcrypt(cost)
	if err != nil {
		b.Fatal(err)
	}
	if err := service.Seed(ctx, db, hasher, time.Now(), service.SeedConfig{SuperadminIdentifier: "superadmin", SuperadminPassword: "superadmin"}); err != nil {
		b.Fatal(err)
	}
	sessions, err := service.NewSessionService(service.SessionConfig{DB: db, Cache: nil})
	if err != nil {
		b.Fatal(err)
	}
	var th *service.Throttle
	if limiter != nil {
		limits := service.DefaultLimits()
		limits.LoginFailures = throttle.Rate{Limit: 1, Window: time.Hour}
		if th, err = service.NewThrottle(service.ThrottleConfig{Limiter: limiter, Limits: limits}); err != nil {
			b.Fatal(err)
		}
	}
	authSvc, err := service.NewAuthService(service.AuthConfig{DB: db, Sessions: sessions, Hasher: hasher, Throttle: th})
	if err != nil {
		b.Fatal(err)
	}
	req := service.LoginRequest{
		API: "admin", Method: service.NativeStrategyName, ChannelID: 1,
		Native: &service.Credentials{Username: "superadmin", Password: "wrong"},
	}
	if throttled {
		if _, err := authSvc.Authenticate(ctx, req); !errors.As(err, new(*service.InvalidCredentialsError)) {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, err := authSvc.Authenticate(ctx, req)
		var tooMany *service.TooManyRequestsError
		var invalid *service.InvalidCredentialsError
		if (throttled && !errors.As(err, &tooMany)) || (!throttled && !errors.As(err, &invalid)) {
			b.Fatal(err)
		}
	}
}
