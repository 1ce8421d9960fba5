package redisstore_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// BenchmarkRedisGetLatency measures the latency of a cache hit (Store.Get:
// one MGET and the decoding) on the Redis of TEST_REDIS_URL, with a client
// made as the server makes it (config.ParseRedisURL), from many goroutines
// at once (b.SetParallelism: 16 per GOMAXPROCS), as a server under load
// calls it. It reports the latency percentiles each call saw, which is what
// SESSION_CACHE_TIMEOUT is compared with (docs/benchmarks.md, "Redis GET
// latency under load"). Skipped without TEST_REDIS_URL: miniredis's
// latency says nothing about a server's.
func BenchmarkRedisGetLatency(b *testing.B) {
	url := os.Getenv(testenv.RedisURLEnv)
	if url == "" {
		b.Skipf("%s is not set", testenv.RedisURLEnv)
	}
	opts, err := config.ParseRedisURL(url)
	if err != nil {
		b.Fatal(err)
	}
	client := opts.NewClient()
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	r := newTestRedis(b, client, nil, redisstore.Options{})
	if err := r.Set(ctx, "key", sessioncachetest.FullSession(), r.Generation()); err != nil {
		b.Fatal(err)
	}

	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		own := make([]time.Duration, 0, 1<<14)
		for pb.Next() {
			start := time.Now()
			s, err := r.Get(ctx, "key")
			own = append(own, time.Since(start))
			if s == nil || err != nil {
				b.Errorf("Get = %v, %v", s, err)
				return
			}
		}
		mu.Lock()
		all = append(all, own...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(all)
	at := func(q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(0.999), "p99.9-ms")
	b.ReportMetric(at(1), "max-ms")
}
