package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// RedisURLEnv names the environment variable that points the tests at a real
// Redis, e.g. redis://127.0.0.1:6379/0.
const RedisURLEnv = "TEST_REDIS_URL"

// Redis returns a client for the tests' Redis. If TEST_REDIS_URL is set, the
// client connects to that server and mr is nil; the test fails (it is not
// skipped) if the URL is invalid or the server does not answer a PING. Tests
// on a real server share its database: use RandomPrefix for keys and remove
// them afterwards. Otherwise Redis starts a miniredis for the test, as
// Miniredis does.
//
// The client has ContextTimeoutEnabled set, so context deadlines bound its
// socket I/O. It is closed when the test ends.
func Redis(t testing.TB) (client redis.UniversalClient, mr *miniredis.Miniredis) {
	t.Helper()
	url := os.Getenv(RedisURLEnv)
	if url == "" {
		return Miniredis(t)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("testenv: %s is not a valid Redis URL: %v", RedisURLEnv, err)
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("testenv: the Redis of %s (%s, db %d) is unreachable: %v; start it or unset %s to use miniredis",
			RedisURLEnv, opts.Addr, opts.DB, err, RedisURLEnv)
	}
	return c, nil
}

// Miniredis starts a miniredis for the test, whatever TEST_REDIS_URL says,
// and returns it with a client connected to it (with ContextTimeoutEnabled
// set). Both are closed when the test ends.
func Miniredis(t testing.TB) (redis.UniversalClient, *miniredis.Miniredis) {
	t.Helper()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c, mr
}

// RandomPrefix returns a new Redis key prefix "test:<16 hex digits>:", so
// that tests sharing a real Redis do not see each other's keys.
func RandomPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	return "test:" + hex.EncodeToString(b[:]) + ":"
}
