package redisstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// BenchmarkRedisGet measures a Redis hit (one GET and the JSON decoding) on
// miniredis and, when TEST_REDIS_URL is set, on that server.
func BenchmarkRedisGet(b *testing.B) {
	b.Run("miniredis", func(b *testing.B) {
		benchmarkRedisGet(b, testenv.Miniredis)
	})
	if os.Getenv(testenv.RedisURLEnv) != "" {
		b.Run("real", func(b *testing.B) {
			benchmarkRedisGet(b, testenv.Redis)
		})
	}
}

func benchmarkRedisGet(b *testing.B, newClient newRedisClientFunc) {
	ctx := context.Background()
	client, mr := newClient(b)
	r := newTestRedis(b, client, mr, redisstore.Options{})
	if err := r.Set(ctx, "key", sessioncachetest.FullSession(), r.Generation()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := r.Get(ctx, "key")
		if s == nil || err != nil {
			b.Fatalf("Get = %v, %v", s, err)
		}
	}
}
