package redisstore_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/redisstore"
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
		return newTestRedis(t, client, mr, redisstore.Options{})
	})

	ctx := context.Background()

	t.Run("ClearKeepsOtherPrefixes", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		base := testenv.RandomPrefix()
		// The glob characters in a's prefix must be matched literally: the
		// unescaped pattern "<base>a[bc]*:*" would match b's keys too.
		a := newTestRedis(t, client, mr, redisstore.Options{KeyPrefix: base + "a[bc]*:"})
		b := newTestRedis(t, client, mr, redisstore.Options{KeyPrefix: base + "ab:"})
		c := newTestRedis(t, client, mr, redisstore.Options{KeyPrefix: base + "a"})
		for _, s := range []*redisstore.Store{a, b, c} {
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
			for _, other := range []*redisstore.Store{b, c} {
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
		s := newTestRedis(t, client, mr, redisstore.Options{})
		short := newTestRedis(t, client, mr, redisstore.Options{TTL: 10 * time.Minute})
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

	t.Run("RoundTripsPerOperation", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, client.Ping(ctx).Err())                                                  // connect before recording
		require.NoError(t, s.Set(ctx, "warm", sessioncachetest.AnonymousSession(), s.Generation())) // loads the scripts
		_, err := s.Get(ctx, "warm")
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, "warm")) // opens the pipeline's connection
		require.NoError(t, s.Clear(ctx))
		rec := recordCommands(client)
		key, revoked := s.KeyPrefix()+"k", "{"+s.KeyPrefix()+"k}:revoked"
		clock, floor := s.KeyPrefix()+"{meta}clock", s.KeyPrefix()+"{meta}floor"

		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		cmds := rec.take()
		require.Len(t, cmds, 1, "Set")
		require.Equal(t, []string{"evalsha", "2", key, revoked}, []string{cmds[0][0], cmds[0][2], cmds[0][3], cmds[0][4]})
		require.Equal(t, "86400000", cmds[0][6], "PX of the TTL")
		require.Equal(t, strconv.FormatUint(uint64(s.Generation()), 10), cmds[0][7], "the generation")
		channel := s.KeyPrefix() + "invalidations"
		require.Equal(t, channel, cmds[0][8], "the script announces the write")
		require.Regexp(t, `^1\|[0-9a-f]{16}\|e\|1:k$`, cmds[0][9])

		_, err = s.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, [][]string{{"mget", floor, clock, key}}, rec.take(), "Get: one MGET")

		require.NoError(t, s.Delete(ctx, "k", "k2"))
		cmds = rec.take()
		require.Len(t, cmds, 3, "Delete")
		require.Equal(t, []string{"evalsha", "1", clock}, []string{cmds[0][0], cmds[0][2], cmds[0][3]}, "Delete: the clock")
		now := strconv.FormatUint(uint64(s.Generation()), 10)
		for i, k := range []string{"k", "k2"} {
			c := cmds[1+i]
			require.Equal(t, []string{"evalsha", "2", s.KeyPrefix() + k, "{" + s.KeyPrefix() + k + "}:revoked", now, "86400000"},
				append([]string{c[0]}, c[2:7]...), "Delete: then one pipeline of tombstones")
		}
		require.Len(t, cmds[1], 7, "only the last tombstone's script announces")
		require.Equal(t, channel, cmds[2][7], "the last script announces the pipeline's keys")
		require.Regexp(t, `^1\|[0-9a-f]{16}\|e\|1:k2:k2$`, cmds[2][8])

		require.NoError(t, s.Clear(ctx))
		cmds = rec.take()
		require.Len(t, cmds, 1, "Clear")
		require.Equal(t, []string{"evalsha", "2", clock, floor, channel}, []string{cmds[0][0], cmds[0][2], cmds[0][3], cmds[0][4], cmds[0][5]})
	})

	// Clear is one script whatever the size of the cache: a million entries
	// are as quick to clear as one. The old entries stay until their TTL but
	// are never read.
	t.Run("ClearManyKeys", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, s.Clear(ctx)) // loads the script
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
		require.Len(t, scanKeys(t, client, s.KeyPrefix()), n+2, "entries stay until their TTL, with the clock and the floor")

		require.NoError(t, s.Purge(ctx))
		require.Empty(t, scanKeys(t, client, s.KeyPrefix()))
	})

	// A tombstone refuses the writes in flight when it was written, for the
	// TTL, and lets through the writes whose data was read after it; its
	// revocation key outlives the newer entry that replaces it, so a write
	// in flight still cannot land after that one.
	t.Run("TombstoneRefusesOlderWrites", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{TTL: time.Minute})
		key, revoked := s.KeyPrefix()+"k", "{"+s.KeyPrefix()+"k}:revoked"
		before := s.Generation()
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), before))
		require.Equal(t, "!", client.Get(ctx, key).Val())
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
		for _, k := range []string{key, revoked} {
			ttl := client.TTL(ctx, k).Val()
			require.Greater(t, ttl, 50*time.Second, k)
			require.LessOrEqual(t, ttl, time.Minute, k)
		}

		require.NoError(t, s.Set(ctx, "k", sessioncachetest.AnonymousSession(), s.Generation()))
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), before))
		got, err = s.Get(ctx, "k")
		require.NoError(t, err)
		sessioncachetest.RequireSessionEqual(t, sessioncachetest.AnonymousSession(), got, "the newer write stays")
	})

	// Two revocations of one key that land in the other order (the later
	// clock value first) leave the later value: the earlier one cannot let
	// through a write from between the two.
	t.Run("RevocationValueOnlyGrows", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		revoked := "{" + s.KeyPrefix() + "k}:revoked"
		later := strconv.FormatUint(uint64(1)<<52, 10) // past any clock value of this test
		require.NoError(t, client.Set(ctx, revoked, later, time.Minute).Err())
		require.NoError(t, s.Delete(ctx, "k"))
		require.Equal(t, later, client.Get(ctx, revoked).Val())
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		require.Equal(t, "!", client.Get(ctx, s.KeyPrefix()+"k").Val(), "a write from before the later revocation")
	})

	// A server that lost its scripts (a restart, SCRIPT FLUSH) gets them
	// again: every operation still works. On miniredis only: SCRIPT FLUSH
	// on a real server would reach every other user of it.
	t.Run("ScriptsReloaded", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		if mr == nil {
			t.Skip("SCRIPT FLUSH is not sent to a shared server")
		}
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Clear(ctx))
		require.NoError(t, client.ScriptFlush(ctx).Err())
		require.NoError(t, s.Delete(ctx, "k", "k2"))
		require.Equal(t, "!", client.Get(ctx, s.KeyPrefix()+"k2").Val())
		require.NoError(t, client.ScriptFlush(ctx).Err())
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		require.NoError(t, client.ScriptFlush(ctx).Err())
		require.NoError(t, s.Clear(ctx))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
	})

	// A tombstone without a revocation key (written by a build before the
	// revocation clock) refuses every write, as that build's Set does.
	t.Run("BareTombstoneRefusesEveryWrite", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, s.Delete(ctx, "other")) // the clock moves on
		require.NoError(t, client.Set(ctx, s.KeyPrefix()+"k", "!", time.Minute).Err())
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), s.Generation()))
		require.Equal(t, "!", client.Get(ctx, s.KeyPrefix()+"k").Val())
	})

	// A revocation made by one process refuses the other processes' writes
	// from before it, and each of them stores again once it has read the
	// clock (its next Get of any key, or its Probe).
	t.Run("RevocationAcrossProcesses", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		a := newTestRedis(t, client, mr, redisstore.Options{})
		b := redisstore.New(client, redisstore.Options{KeyPrefix: a.KeyPrefix(), OperationTimeout: testOperationTimeout})
		_, err := b.Get(ctx, "k")
		require.NoError(t, err)
		before := b.Generation()
		require.NoError(t, a.Delete(ctx, "k"))
		require.NoError(t, b.Set(ctx, "k", sessioncachetest.FullSession(), before))
		got, err := a.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "b's write from before a's Delete")

		_, err = b.Get(ctx, "unrelated")
		require.NoError(t, err)
		require.Equal(t, a.Generation(), b.Generation())
		require.NoError(t, b.Set(ctx, "k", sessioncachetest.AnonymousSession(), b.Generation()))
		got, err = a.Get(ctx, "k")
		require.NoError(t, err)
		sessioncachetest.RequireSessionEqual(t, sessioncachetest.AnonymousSession(), got, "b's write after a's Delete")
	})

	// A failover can lose the clock's last increments. A generation read
	// before it still cannot pass a revocation made after it: the clock
	// starts again from the server's time, past every value read before.
	t.Run("RevocationAfterTheClockIsLost", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, s.Delete(ctx, "earlier"))
		require.NoError(t, s.Delete(ctx, "earlier"))
		before := s.Generation()
		require.NoError(t, client.Del(ctx, s.KeyPrefix()+"{meta}clock").Err()) // lost with the old master
		require.NoError(t, s.Delete(ctx, "k"))
		require.Greater(t, s.Generation(), before)
		require.NoError(t, s.Set(ctx, "k", sessioncachetest.FullSession(), before))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "a write from before the revocation")
	})

	// Another process's Clear is seen by this one's next Get or Probe.
	t.Run("GenerationFollowsOtherProcesses", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		a := newTestRedis(t, client, mr, redisstore.Options{})
		b := redisstore.New(client, redisstore.Options{KeyPrefix: a.KeyPrefix(), OperationTimeout: testOperationTimeout})
		require.NoError(t, a.Set(ctx, "k", sessioncachetest.FullSession(), a.Generation()))
		got, err := b.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
		require.NoError(t, a.Clear(ctx))
		require.Less(t, b.Generation(), a.Generation(), "b has not read since")
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

	// A rolling deploy that adds a permission in the middle of the list: the
	// two builds share the keys (so revocations reach both) but never read
	// each other's entries, which would grant shifted permissions.
	t.Run("AnotherBuildsEntryIsAMiss", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		oldBuild := newTestRedis(t, client, mr, redisstore.Options{Codec: sessioncache.NewCodec(auth.All())})
		newBuild := redisstore.New(client, redisstore.Options{
			KeyPrefix: oldBuild.KeyPrefix(), OperationTimeout: testOperationTimeout,
			Codec: sessioncache.NewCodec(insertPermission(auth.All(), 2, "ReadWidget")),
		})
		for _, w := range []struct {
			name          string
			writer, other *redisstore.Store
		}{{"old writes", oldBuild, newBuild}, {"new writes", newBuild, oldBuild}} {
			require.NoError(t, w.writer.Set(ctx, "k", sessioncachetest.FullSession(), w.writer.Generation()), w.name)
			got, err := w.other.Get(ctx, "k")
			require.NoError(t, err, w.name)
			require.Nil(t, got, "%s: the other build's entry is a miss", w.name)
			got, err = w.writer.Get(ctx, "k")
			require.NoError(t, err, w.name)
			sessioncachetest.RequireSessionEqual(t, sessioncachetest.FullSession(), got, w.name)
		}

		// A revocation by either build refuses the other's writes in flight.
		before := oldBuild.Generation()
		require.NoError(t, newBuild.Delete(ctx, "k"))
		require.NoError(t, oldBuild.Set(ctx, "k", sessioncachetest.FullSession(), before))
		require.Equal(t, "!", client.Get(ctx, oldBuild.KeyPrefix()+"k").Val())
	})

	// An entry of the format before codecs ("<generation>|<JSON>") is a miss.
	t.Run("UnversionedEntryIsAMiss", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, client.Set(ctx, s.KeyPrefix()+"k", `0|{"cacheExpiry":1,"id":7,"user":{"id":3,"channelPermissions":[{"id":1,"permissions":"i:0001"}]}}`, time.Hour).Err())
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
	})

	t.Run("UndecodableValue", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, redisstore.Options{})
		require.NoError(t, client.Set(ctx, s.KeyPrefix()+"k", sessioncache.DefaultCodec().ID()+"|0|not json", time.Hour).Err())
		got, err := s.Get(ctx, "k")
		require.Error(t, err)
		require.Nil(t, got)
	})
}

// insertPermission returns a copy of perms with p inserted at i, as a
// release of Vendure adds a permission in the middle of the list.
func insertPermission(perms []auth.Permission, i int, p auth.Permission) []auth.Permission {
	return slices.Insert(slices.Clone(perms), i, p)
}
