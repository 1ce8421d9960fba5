package sessioncache_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// newRedisClientFunc returns a Redis client for a test, and the miniredis
// behind it (nil for a real server).
type newRedisClientFunc func(t testing.TB) (redis.UniversalClient, *miniredis.Miniredis)

func TestRedisMiniredis(t *testing.T) {
	t.Parallel()
	testRedis(t, testenv.Miniredis)
}

func TestRedisReal(t *testing.T) {
	if os.Getenv(testenv.RedisURLEnv) == "" {
		t.Skipf("%s is not set", testenv.RedisURLEnv)
	}
	t.Parallel()
	// With the variable set, testenv.Redis fails the test (once, here, rather
	// than in every subtest) if Redis is unreachable.
	testenv.Redis(t)
	testRedis(t, testenv.Redis)
}

// testRedis runs the conformance suite and the Redis-specific tests on
// clients from newClient.
func testRedis(t *testing.T, newClient newRedisClientFunc) {
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		client, mr := newClient(t)
		return newTestRedis(t, client, mr, sessioncache.RedisOptions{})
	})

	ctx := context.Background()

	t.Run("ClearKeepsOtherPrefixes", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		base := testenv.RandomPrefix()
		// The glob characters in a's prefix must be matched literally: the
		// unescaped pattern "<base>a[bc]*:*" would match b's keys too.
		a := newTestRedis(t, client, mr, sessioncache.RedisOptions{KeyPrefix: base + "a[bc]*:"})
		b := newTestRedis(t, client, mr, sessioncache.RedisOptions{KeyPrefix: base + "ab:"})
		c := newTestRedis(t, client, mr, sessioncache.RedisOptions{KeyPrefix: base + "a"})
		for _, s := range []*sessioncache.Redis{a, b, c} {
			require.NoError(t, s.Set(ctx, "k1", sessioncachetest.FullSession(), s.Generation()))
			require.NoError(t, s.Set(ctx, "k2", sessioncachetest.AnonymousSession(), s.Generation()))
		}
		unrelated := base + "unrelated"
		require.NoError(t, client.Set(ctx, unrelated, "x", 0).Err())
		cleanupKeys(t, client, mr, unrelated)

		require.NoError(t, a.Clear(ctx))
		for _, k := range []string{"k1", "k2"} {
			got, err := a.Get(ctx, k)
			require.NoError(t, err)
			require.Nil(t, got, "cleared strategy still has %s", k)
			for _, other := range []*sessioncache.Redis{b, c} {
				got, err := other.Get(ctx, k)
				require.NoError(t, err)
				require.NotNil(t, got, "Clear removed %s of prefix %q", k, other.KeyPrefix())
			}
		}
		require.Equal(t, "x", client.Get(ctx, unrelated).Val())
	})

	t.Run("KeyTTL", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, sessioncache.RedisOptions{})
		short := newTestRedis(t, client, mr, sessioncache.RedisOptions{TTL: 10 * time.Minute})
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		require.NoError(t, short.Set(ctx, "k", sessioncachetest.FullSession(), short.Generation()))

		ttl, err := client.TTL(ctx, s.KeyPrefix()+"k").Result()
		require.NoError(t, err)
		require.Greater(t, ttl, 23*time.Hour)
		require.LessOrEqual(t, ttl, 24*time.Hour)
		ttl, err = client.TTL(ctx, short.KeyPrefix()+"k").Result()
		require.NoError(t, err)
		require.Greater(t, ttl, 9*time.Minute)
		require.LessOrEqual(t, ttl, 10*time.Minute)

		if mr == nil {
			return // a real server's clock cannot be advanced
		}
		require.Equal(t, 24*time.Hour, mr.TTL(s.KeyPrefix()+"k"))
		require.Equal(t, 10*time.Minute, mr.TTL(short.KeyPrefix()+"k"))
		mr.FastForward(10 * time.Minute)
		got, err := short.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "key outlived its TTL")
		got, err = s.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
		mr.FastForward(24*time.Hour - 10*time.Minute)
		got, err = s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "key outlived the default TTL")
	})

	t.Run("OneRoundTripPerOperation", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, sessioncache.RedisOptions{})
		require.NoError(t, client.Ping(ctx).Err())                                                  // connect before recording
		require.NoError(t, s.Set(ctx, "warm", sessioncachetest.AnonymousSession(), s.Generation())) // loads the script
		_, err := s.Get(ctx, "warm")
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, "warm")) // opens the pipeline's connection
		rec := recordCommands(client)
		key := s.KeyPrefix() + "k"

		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		cmds := rec.take()
		require.Len(t, cmds, 1, "Set")
		require.Equal(t, []string{"evalsha", "1", key}, []string{cmds[0][0], cmds[0][2], cmds[0][3]})
		require.Equal(t, "86400000", cmds[0][5], "PX of the TTL")

		_, err = s.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, [][]string{{"mget", s.KeyPrefix() + "generation", key}}, rec.take(), "Get: one MGET")

		require.NoError(t, s.Delete(ctx, "k", "k2"))
		require.Equal(t, [][]string{
			{"set", key, "!", "ex", "86400"}, {"set", s.KeyPrefix() + "k2", "!", "ex", "86400"},
		}, rec.take(), "Delete: one pipeline of tombstones")

		require.NoError(t, s.Clear(ctx))
		require.Equal(t, [][]string{{"incr", s.KeyPrefix() + "generation"}}, rec.take(), "Clear")
	})

	// Clear is one INCR whatever the size of the cache: a million entries
	// are as quick to clear as one. The old entries stay until their TTL but
	// are never read.
	t.Run("ClearManyKeys", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, sessioncache.RedisOptions{})
		const n = 1200
		gen := s.Generation()
		for i := range n {
			require.NoError(t, s.Set(ctx, strconv.Itoa(i), sessioncachetest.AnonymousSession(), gen))
		}
		rec := recordCommands(client)
		require.NoError(t, s.Clear(ctx))
		require.Len(t, rec.take(), 1)
		for _, i := range []int{0, n / 2, n - 1} {
			got, err := s.Get(ctx, strconv.Itoa(i))
			require.NoError(t, err)
			require.Nil(t, got)
		}
		require.Len(t, scanKeys(t, client, s.KeyPrefix()), n+1, "entries stay until their TTL")

		require.NoError(t, s.Purge(ctx))
		require.Empty(t, scanKeys(t, client, s.KeyPrefix()))
	})

	// A tombstone outlives a write that was in flight: Set never replaces it.
	t.Run("TombstoneRefusesEveryWrite", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, sessioncache.RedisOptions{TTL: time.Minute})
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		require.Equal(t, "!", client.Get(ctx, s.KeyPrefix()+"k").Val())
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
		ttl := client.TTL(ctx, s.KeyPrefix()+"k").Val()
		require.Greater(t, ttl, 50*time.Second)
		require.LessOrEqual(t, ttl, time.Minute)
	})

	// Another process's Clear is seen by this one's next Get or Probe.
	t.Run("GenerationFollowsOtherProcesses", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		a := newTestRedis(t, client, mr, sessioncache.RedisOptions{})
		b := sessioncache.NewRedis(client, sessioncache.RedisOptions{KeyPrefix: a.KeyPrefix(), OperationTimeout: testOperationTimeout})
		require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
		got, err := b.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
		require.NoError(t, a.Clear(ctx))
		require.Equal(t, a.Generation()-1, b.Generation(), "b has not read since")
		require.NoError(t, b.Set(ctx, "k", sessioncachetest.FullSession(), b.Generation()))
		got, err = a.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "b's write with the old generation is not readable")
		id, err := b.Probe(ctx)
		require.NoError(t, err)
		if mr == nil {
			require.Len(t, id, 40, "a real server's run_id")
		}
		require.Equal(t, a.Generation(), b.Generation())
	})

	t.Run("UndecodableValue", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, sessioncache.RedisOptions{})
		require.NoError(t, client.Set(ctx, s.KeyPrefix()+"k", "not json", time.Hour).Err())
		got, err := s.Get(ctx, "k")
		require.Error(t, err)
		require.Nil(t, got)
	})
}
