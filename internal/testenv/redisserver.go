package testenv

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// OwnRedis is a redis-server process of one test's own, started by
// StartRedis: the test may hold its writes without disturbing any other
// test, and no sentinel watches it, so holding them starts no failover.
type OwnRedis struct {
	// Socket is the path of the Unix socket it listens on (it listens on
	// no TCP port, so no other process can take its address).
	Socket string

	procGroup
	admin *redis.Client
}

// redisServerTimeout bounds StartRedis's wait for the server and each of
// the helpers' own calls to it.
const redisServerTimeout = 30 * time.Second

// StartRedis starts a redis-server without persistence for the test, its
// socket and log in a new temporary directory, and returns once it answers
// a PING (at most 30 s). It is killed, and waited for, when the test ends;
// a failed test prints the tail of its log. It skips the test as
// StartSentinel does when redis-server is not on PATH.
func StartRedis(t testing.TB) *OwnRedis {
	t.Helper()
	needRedisServer(t)
	// A socket path must be short (about 100 bytes): t.TempDir's holds the
	// test's name.
	dir, err := os.MkdirTemp("", "redis")
	if err != nil {
		t.Fatalf("testenv: StartRedis: %v", err)
	}
	r := &OwnRedis{Socket: filepath.Join(dir, "redis.sock")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: redis-server log:%s", r.logTails())
		}
		if r.admin != nil {
			_ = r.admin.Close()
		}
		r.kill()
		_ = os.RemoveAll(dir)
	})
	err = r.start(dir, "redis", r.Socket,
		"--port", "0", "--unixsocket", r.Socket, "--unixsocketperm", "700", "--dir", dir,
		"--save", "", "--appendonly", "no")
	if err != nil {
		t.Fatalf("testenv: StartRedis: %v", err)
	}
	r.admin = redis.NewClient(&redis.Options{Network: "unix", Addr: r.Socket, ContextTimeoutEnabled: true, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), redisServerTimeout)
	defer cancel()
	if err := r.poll(ctx, "redis-server to answer PING", func(ctx context.Context) error {
		return r.admin.Ping(ctx).Err()
	}); err != nil {
		t.Fatalf("testenv: StartRedis: %v", err)
	}
	return r
}

// Client returns a client of the server with ContextTimeoutEnabled set,
// closed when the test ends.
func (r *OwnRedis) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: r.Socket, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// holdWritesFor is the length HoldWrites gives CLIENT PAUSE, which needs
// one: longer than any test, so the pause ends when release is called.
const holdWritesFor = time.Hour

// HoldWrites suspends write commands (CLIENT PAUSE … WRITE) until release
// is called: a client that writes, scripts included, blocks until then or
// until its own deadline; reads go on. Release (CLIENT UNPAUSE) may be
// called more than once; it is also called when the test ends.
func (r *OwnRedis) HoldWrites(t testing.TB) (release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), redisServerTimeout)
	defer cancel()
	if err := r.admin.Do(ctx, "CLIENT", "PAUSE", holdWritesFor.Milliseconds(), "WRITE").Err(); err != nil {
		t.Fatalf("testenv: HoldWrites: CLIENT PAUSE: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), redisServerTimeout)
			defer cancel()
			if err := r.admin.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
				t.Errorf("testenv: HoldWrites: CLIENT UNPAUSE: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}
