package sessioncache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// testOperationTimeout replaces the 50ms default in tests: parallel tests
// under -race can be slow enough to exceed it. The default is checked by
// TestRedisDefaults; the timeout itself by the timeout tests.
const testOperationTimeout = 5 * time.Second

// ---- conformance suite ------------------------------------------------------

// testStrategy checks the Strategy contract (see Strategy) on strategies
// created by newFunc; each subtest gets its own, empty one.
func testStrategy(t *testing.T, newFunc func(t *testing.T) Strategy) {
	t.Helper()
	ctx := context.Background()

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		got, err := s.Get(ctx, "missing")
		require.NoError(t, err)
		require.Nil(t, got)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		samples := sampleSessions()
		for name, v := range samples {
			require.NoError(t, s.Set(ctx, name, v, s.Generation()), name)
		}
		for name := range samples {
			got, err := s.Get(ctx, name)
			require.NoError(t, err, name)
			requireSessionEqual(t, sampleSessions()[name], got, name)
		}
	})

	t.Run("TokenNotStored", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		v := fullSession()
		v.Token = "raw-token"
		require.NoError(t, s.Set(ctx, "k", v, s.Generation()))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Empty(t, got.Token)
		require.Equal(t, "raw-token", v.Token, "Set must not modify its argument")
	})

	t.Run("SetReplaces", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		require.NoError(t, s.Set(ctx, "k", anonymousSession(), s.Generation()))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		requireSessionEqual(t, anonymousSession(), got, "replaced")
	})

	t.Run("SetNil", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		require.Error(t, s.Set(ctx, "k", nil, s.Generation()))
	})

	t.Run("Snapshot", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		v := fullSession()
		require.NoError(t, s.Set(ctx, "k", v, s.Generation()))

		// Change everything the caller can reach, in place.
		v.CacheExpiry++
		v.ID++
		v.Expires = v.Expires.Add(time.Hour)
		*v.ActiveOrderID = 999
		*v.ActiveChannelID = 999
		v.AuthenticationStrategy = "changed"
		v.User.ID = 999
		v.User.Identifier = "changed"
		v.User.Verified = false
		v.User.IsAdministrator = false
		v.User.ChannelPermissions[0].Code = "changed"
		v.User.ChannelPermissions[0].Token = "changed"
		v.User.ChannelPermissions[0].Permissions[0] = auth.Owner
		v.User.ChannelPermissions[1].Permissions = append(v.User.ChannelPermissions[1].Permissions, auth.Owner)
		v.User.ChannelPermissions = append(v.User.ChannelPermissions, ChannelPermissions{ID: 999})

		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		requireSessionEqual(t, fullSession(), got, "after changing the caller's value")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		require.NoError(t, s.Set(ctx, "a", fullSession(), s.Generation()))
		require.NoError(t, s.Set(ctx, "b", anonymousSession(), s.Generation()))
		require.NoError(t, s.Delete(ctx, "a"))
		got, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Nil(t, got)
		got, err = s.Get(ctx, "b")
		require.NoError(t, err)
		requireSessionEqual(t, anonymousSession(), got, "other key after Delete")
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		require.NoError(t, s.Delete(ctx, "missing"))
	})

	t.Run("Clear", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		for i := range 10 {
			require.NoError(t, s.Set(ctx, "k"+strconv.Itoa(i), fullSession(), s.Generation()))
		}
		require.NoError(t, s.Clear(ctx))
		for i := range 10 {
			got, err := s.Get(ctx, "k"+strconv.Itoa(i))
			require.NoError(t, err)
			require.Nil(t, got)
		}
		require.NoError(t, s.Clear(ctx), "Clear of an empty cache")
		require.NoError(t, s.Set(ctx, "k0", anonymousSession(), s.Generation()))
		got, err := s.Get(ctx, "k0")
		require.NoError(t, err)
		requireSessionEqual(t, anonymousSession(), got, "Set after Clear")
	})

	t.Run("DeleteMany", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		for i := range 5 {
			require.NoError(t, s.Set(ctx, "k"+strconv.Itoa(i), fullSession(), s.Generation()))
		}
		require.NoError(t, s.Delete(ctx, "k0", "k2", "k4", "missing"))
		require.NoError(t, s.Delete(ctx))
		for i := range 5 {
			got, err := s.Get(ctx, "k"+strconv.Itoa(i))
			require.NoError(t, err)
			require.Equal(t, i%2 == 0, got == nil, "k%d", i)
		}
	})

	// A write whose generation was taken before a Delete of its key (a login
	// or a lookup that read the session before a logout deleted it) must not
	// bring the key back.
	t.Run("SetAfterDeleteWithOlderGeneration", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		before := s.Generation()
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Set(ctx, "k", fullSession(), before))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "a write in flight during Delete resurrected the key")

		// Other keys written with that generation are not affected.
		require.NoError(t, s.Set(ctx, "other", anonymousSession(), before))
		got, err = s.Get(ctx, "other")
		require.NoError(t, err)
		if _, noop := s.(Noop); !noop {
			requireSessionEqual(t, anonymousSession(), got, "another key")
		}
	})

	// Clear is a generation change: entries written before are gone, and a
	// write whose generation was taken before the Clear is not readable.
	t.Run("SetAfterClearWithOlderGeneration", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		before := s.Generation()
		require.NoError(t, s.Clear(ctx))
		require.NoError(t, s.Set(ctx, "k", fullSession(), before))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "a write that predates Clear is readable")

		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		got, err = s.Get(ctx, "k")
		require.NoError(t, err)
		if _, noop := s.(Noop); !noop {
			requireSessionEqual(t, fullSession(), got, "a write after Clear")
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s := newFunc(t)
		const goroutines, perGoroutine = 16, 40
		errs := make(chan error, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				errs <- concurrentWorker(ctx, s, g, perGoroutine)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}

// concurrentWorker sets and gets its own keys and a key shared by every
// worker, and reports the first inconsistency.
func concurrentWorker(ctx context.Context, s Strategy, g, n int) error {
	for i := range n {
		key := fmt.Sprintf("g%d-%d", g, i)
		v := fullSession()
		v.ID = entity.ID(g*1000 + i)
		if err := s.Set(ctx, key, v, s.Generation()); err != nil {
			return err
		}
		if err := s.Set(ctx, "shared", v, s.Generation()); err != nil {
			return err
		}
		got, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		if got == nil || got.ID != v.ID || got.User == nil || got.User.Identifier != v.User.Identifier {
			return fmt.Errorf("Get(%s) = %+v, want ID %d", key, got, v.ID)
		}
		got, err = s.Get(ctx, "shared")
		if err != nil {
			return err
		}
		if got == nil || got.ID%1000 >= entity.ID(n) || len(got.User.ChannelPermissions) != 2 {
			return fmt.Errorf("Get(shared) = %+v, not a value any worker set", got)
		}
		if i%10 == 9 {
			if err := s.Delete(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// fullSession returns a new authenticated session with every field set,
// including a non-UTC, sub-microsecond Expires and a fractional CacheExpiry.
func fullSession() *CachedSession {
	order, channel := entity.ID(41), entity.ID(2)
	return &CachedSession{
		CacheExpiry:            1767323045.123456,
		ID:                     7,
		Expires:                time.Date(2026, 1, 9, 3, 4, 5, 123456789, time.FixedZone("CET", 3600)),
		ActiveOrderID:          &order,
		ActiveChannelID:        &channel,
		AuthenticationStrategy: "native",
		User: &CachedUser{
			ID:              3,
			Identifier:      "admin@example.com",
			Verified:        true,
			IsAdministrator: true,
			ChannelPermissions: []ChannelPermissions{
				// Not in ID order: the order must be kept.
				{ID: 2, Token: "second-token", Code: "second", Permissions: []auth.Permission{auth.Permission("ReadCatalog"), auth.Authenticated}},
				{ID: 1, Token: "default-token", Code: "__default_channel__", Permissions: []auth.Permission{auth.SuperAdmin, auth.Authenticated, auth.UpdateGlobalSettings}},
			},
		},
	}
}

// anonymousSession returns a new session without user or active IDs.
func anonymousSession() *CachedSession {
	return &CachedSession{
		CacheExpiry: 1767323045,
		ID:          8,
		Expires:     time.Date(2026, 1, 9, 3, 4, 5, 0, time.UTC),
	}
}

// sampleSessions returns new sessions covering nil and empty variants.
func sampleSessions() map[string]*CachedSession {
	noChannels := fullSession()
	noChannels.User.ChannelPermissions = nil
	emptyChannels := fullSession()
	emptyChannels.User.ChannelPermissions = []ChannelPermissions{}
	emptyPerms := fullSession()
	emptyPerms.User.ChannelPermissions[0].Permissions = []auth.Permission{}
	emptyPerms.User.ChannelPermissions[1].Permissions = nil
	onlyChannel := anonymousSession()
	channel := entity.ID(5)
	onlyChannel.ActiveChannelID = &channel
	unverified := fullSession()
	unverified.User.Verified = false
	unverified.User.IsAdministrator = false
	unverified.ActiveOrderID = nil
	unverified.AuthenticationStrategy = ""
	return map[string]*CachedSession{
		"full":          fullSession(),
		"anonymous":     anonymousSession(),
		"noChannels":    noChannels,
		"emptyChannels": emptyChannels,
		"emptyPerms":    emptyPerms,
		"onlyChannel":   onlyChannel,
		"unverified":    unverified,
	}
}

// requireSessionEqual checks that got equals want (ignoring Token, which is
// never stored): Expires as an instant (time.Equal), everything else deeply,
// so a nil pointer or slice differs from a non-nil one.
func requireSessionEqual(t *testing.T, want, got *CachedSession, msg string) {
	t.Helper()
	require.NotNil(t, got, msg)
	require.Truef(t, want.Expires.Equal(got.Expires), "%s: Expires = %v, want %v", msg, got.Expires, want.Expires)
	w, g := *want, *got
	w.Expires, g.Expires = time.Time{}, time.Time{}
	w.Token, g.Token = "", ""
	require.Equal(t, w, g, msg)
}

// ---- memory -----------------------------------------------------------------

func TestMemory(t *testing.T) {
	t.Parallel()
	testStrategy(t, func(t *testing.T) Strategy {
		m, err := NewMemory(1000)
		require.NoError(t, err)
		return m
	})
}

func TestMemorySize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, -1} {
		m, err := NewMemory(size)
		require.Error(t, err, "size %d", size)
		require.Nil(t, m)
	}
	m, err := NewMemory(1)
	require.NoError(t, err)
	require.NotNil(t, m)
}

func TestMemoryEviction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := NewMemory(3)
	require.NoError(t, err)
	present := func(key string) bool {
		t.Helper()
		got, err := m.Get(ctx, key)
		require.NoError(t, err)
		return got != nil
	}

	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, m.Set(ctx, k, anonymousSession(), m.Generation()))
	}
	require.Equal(t, 3, m.Len())

	// Get refreshes recency: "a" is now the most recently used, "b" the least.
	require.True(t, present("a"))
	require.NoError(t, m.Set(ctx, "d", anonymousSession(), m.Generation()))
	require.Equal(t, 3, m.Len(), "size is a hard bound")
	require.False(t, present("b"), "least recently used entry is evicted")
	require.True(t, present("a"))
	require.True(t, present("c"))
	require.True(t, present("d"))

	// Set of an existing key refreshes it too and does not evict.
	require.NoError(t, m.Set(ctx, "a", fullSession(), m.Generation()))
	require.Equal(t, 3, m.Len())
	// Order now (oldest first): c, d, a.
	require.NoError(t, m.Set(ctx, "e", anonymousSession(), m.Generation()))
	require.False(t, present("c"))
	require.True(t, present("a"))

	for i := range 100 {
		require.NoError(t, m.Set(ctx, strconv.Itoa(i), anonymousSession(), m.Generation()))
	}
	require.Equal(t, 3, m.Len())
	require.True(t, present("99"))
	require.False(t, present("96"))

	require.NoError(t, m.Delete(ctx, "99"))
	require.Equal(t, 2, m.Len())
	require.NoError(t, m.Clear(ctx))
	require.Equal(t, 0, m.Len())
}

// TestMemoryGetSharesValueWithoutAllocating is not parallel: AllocsPerRun
// does not allow it.
func TestMemoryGetSharesValueWithoutAllocating(t *testing.T) {
	ctx := context.Background()
	m, err := NewMemory(10)
	require.NoError(t, err)
	require.NoError(t, m.Set(ctx, "k", fullSession(), m.Generation()))
	first, err := m.Get(ctx, "k")
	require.NoError(t, err)
	second, err := m.Get(ctx, "k")
	require.NoError(t, err)
	require.Same(t, first, second, "Get returns the stored value, not a copy")

	allocs := testing.AllocsPerRun(100, func() {
		s, _ := m.Get(ctx, "k")
		if s == nil {
			panic("miss")
		}
	})
	require.Zero(t, allocs, "Get on a hit allocates")
}

// ---- noop -------------------------------------------------------------------

func TestNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, s := range []Strategy{Noop{}, &Noop{}} {
		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		require.NoError(t, s.Set(ctx, "k", nil, s.Generation()))
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got, "Noop never returns a session")
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Delete(ctx, "missing"))
		require.NoError(t, s.Clear(ctx))
	}
}

// ---- redis ------------------------------------------------------------------

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
	testStrategy(t, func(t *testing.T) Strategy {
		client, mr := newClient(t)
		return newTestRedis(t, client, mr, RedisOptions{})
	})

	ctx := context.Background()

	t.Run("ClearKeepsOtherPrefixes", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		base := testenv.RandomPrefix()
		// The glob characters in a's prefix must be matched literally: the
		// unescaped pattern "<base>a[bc]*:*" would match b's keys too.
		a := newTestRedis(t, client, mr, RedisOptions{KeyPrefix: base + "a[bc]*:"})
		b := newTestRedis(t, client, mr, RedisOptions{KeyPrefix: base + "ab:"})
		c := newTestRedis(t, client, mr, RedisOptions{KeyPrefix: base + "a"})
		for _, s := range []*Redis{a, b, c} {
			require.NoError(t, s.Set(ctx, "k1", fullSession(), s.Generation()))
			require.NoError(t, s.Set(ctx, "k2", anonymousSession(), s.Generation()))
		}
		unrelated := base + "unrelated"
		require.NoError(t, client.Set(ctx, unrelated, "x", 0).Err())
		cleanupKeys(t, client, mr, unrelated)

		require.NoError(t, a.Clear(ctx))
		for _, k := range []string{"k1", "k2"} {
			got, err := a.Get(ctx, k)
			require.NoError(t, err)
			require.Nil(t, got, "cleared strategy still has %s", k)
			for _, other := range []*Redis{b, c} {
				got, err := other.Get(ctx, k)
				require.NoError(t, err)
				require.NotNil(t, got, "Clear removed %s of prefix %q", k, other.keyPrefix)
			}
		}
		require.Equal(t, "x", client.Get(ctx, unrelated).Val())
	})

	t.Run("KeyTTL", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, RedisOptions{})
		short := newTestRedis(t, client, mr, RedisOptions{TTL: 10 * time.Minute})
		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		require.NoError(t, short.Set(ctx, "k", fullSession(), short.Generation()))

		ttl, err := client.TTL(ctx, s.keyPrefix+"k").Result()
		require.NoError(t, err)
		require.Greater(t, ttl, 23*time.Hour)
		require.LessOrEqual(t, ttl, 24*time.Hour)
		ttl, err = client.TTL(ctx, short.keyPrefix+"k").Result()
		require.NoError(t, err)
		require.Greater(t, ttl, 9*time.Minute)
		require.LessOrEqual(t, ttl, 10*time.Minute)

		if mr == nil {
			return // a real server's clock cannot be advanced
		}
		require.Equal(t, 24*time.Hour, mr.TTL(s.keyPrefix+"k"))
		require.Equal(t, 10*time.Minute, mr.TTL(short.keyPrefix+"k"))
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
		s := newTestRedis(t, client, mr, RedisOptions{})
		require.NoError(t, client.Ping(ctx).Err())                                 // connect before recording
		require.NoError(t, s.Set(ctx, "warm", anonymousSession(), s.Generation())) // loads the script
		_, err := s.Get(ctx, "warm")
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, "warm")) // opens the pipeline's connection
		rec := recordCommands(client)
		key := s.keyPrefix + "k"

		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		cmds := rec.take()
		require.Len(t, cmds, 1, "Set")
		require.Equal(t, []string{"evalsha", "1", key}, []string{cmds[0][0], cmds[0][2], cmds[0][3]})
		require.Equal(t, "86400000", cmds[0][5], "PX of the TTL")

		_, err = s.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, [][]string{{"mget", s.keyPrefix + "generation", key}}, rec.take(), "Get: one MGET")

		require.NoError(t, s.Delete(ctx, "k", "k2"))
		require.Equal(t, [][]string{
			{"set", key, "!", "ex", "86400"}, {"set", s.keyPrefix + "k2", "!", "ex", "86400"},
		}, rec.take(), "Delete: one pipeline of tombstones")

		require.NoError(t, s.Clear(ctx))
		require.Equal(t, [][]string{{"incr", s.keyPrefix + "generation"}}, rec.take(), "Clear")
	})

	// Clear is one INCR whatever the size of the cache: a million entries
	// are as quick to clear as one. The old entries stay until their TTL but
	// are never read.
	t.Run("ClearManyKeys", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, RedisOptions{})
		const n = 1200
		gen := s.Generation()
		for i := range n {
			require.NoError(t, s.Set(ctx, strconv.Itoa(i), anonymousSession(), gen))
		}
		rec := recordCommands(client)
		require.NoError(t, s.Clear(ctx))
		require.Len(t, rec.take(), 1)
		for _, i := range []int{0, n / 2, n - 1} {
			got, err := s.Get(ctx, strconv.Itoa(i))
			require.NoError(t, err)
			require.Nil(t, got)
		}
		require.Len(t, scanKeys(t, client, s.keyPrefix), n+1, "entries stay until their TTL")

		require.NoError(t, s.Purge(ctx))
		require.Empty(t, scanKeys(t, client, s.keyPrefix))
	})

	// A tombstone outlives a write that was in flight: Set never replaces it.
	t.Run("TombstoneRefusesEveryWrite", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		s := newTestRedis(t, client, mr, RedisOptions{TTL: time.Minute})
		require.NoError(t, s.Delete(ctx, "k"))
		require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
		require.Equal(t, "!", client.Get(ctx, s.keyPrefix+"k").Val())
		got, err := s.Get(ctx, "k")
		require.NoError(t, err)
		require.Nil(t, got)
		ttl := client.TTL(ctx, s.keyPrefix+"k").Val()
		require.Greater(t, ttl, 50*time.Second)
		require.LessOrEqual(t, ttl, time.Minute)
	})

	// Another process's Clear is seen by this one's next Get or Probe.
	t.Run("GenerationFollowsOtherProcesses", func(t *testing.T) {
		t.Parallel()
		client, mr := newClient(t)
		a := newTestRedis(t, client, mr, RedisOptions{})
		b := NewRedis(client, RedisOptions{KeyPrefix: a.keyPrefix, OperationTimeout: testOperationTimeout})
		require.NoError(t, a.Set(ctx, "k", fullSession(), a.Generation()))
		got, err := b.Get(ctx, "k")
		require.NoError(t, err)
		require.NotNil(t, got)
		require.NoError(t, a.Clear(ctx))
		require.Equal(t, a.Generation()-1, b.Generation(), "b has not read since")
		require.NoError(t, b.Set(ctx, "k", fullSession(), b.Generation()))
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
		s := newTestRedis(t, client, mr, RedisOptions{})
		require.NoError(t, client.Set(ctx, s.keyPrefix+"k", "not json", time.Hour).Err())
		got, err := s.Get(ctx, "k")
		require.Error(t, err)
		require.Nil(t, got)
	})
}

// newTestRedis returns a Redis strategy on client with a random key prefix
// (unless opts has one) and the test operation timeout; on a real server it
// removes the prefix's keys when the test ends.
func newTestRedis(t testing.TB, client redis.UniversalClient, mr *miniredis.Miniredis, opts RedisOptions) *Redis {
	t.Helper()
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = testenv.RandomPrefix()
	}
	if opts.OperationTimeout == 0 {
		opts.OperationTimeout = testOperationTimeout
	}
	if mr == nil {
		t.Cleanup(func() {
			for _, k := range scanKeys(t, client, opts.KeyPrefix) {
				require.NoError(t, client.Del(context.Background(), k).Err())
			}
		})
	}
	return NewRedis(client, opts)
}

// cleanupKeys removes keys from a real server when the test ends.
func cleanupKeys(t testing.TB, client redis.UniversalClient, mr *miniredis.Miniredis, keys ...string) {
	if mr == nil {
		t.Cleanup(func() { client.Del(context.Background(), keys...) })
	}
}

// scanKeys returns the keys that start with prefix (a literal prefix
// without glob characters other than those escapeGlob handles), without
// using the code under test's Clear.
func scanKeys(t testing.TB, client redis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	iter := client.Scan(context.Background(), 0, escapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		if !slices.Contains(keys, iter.Val()) {
			keys = append(keys, iter.Val())
		}
	}
	require.NoError(t, iter.Err())
	return keys
}

// commandRecorder is a go-redis hook that records each command sent, as its
// lower-case arguments.
type commandRecorder struct {
	mu   sync.Mutex
	cmds [][]string
}

func recordCommands(client redis.UniversalClient) *commandRecorder {
	r := &commandRecorder{}
	client.AddHook(r)
	return r
}

func (r *commandRecorder) record(cmd redis.Cmder) {
	args := make([]string, len(cmd.Args()))
	for i, a := range cmd.Args() {
		args[i] = fmt.Sprint(a)
		if i == 0 || strings.EqualFold(args[i], "ex") || strings.EqualFold(args[i], "match") || strings.EqualFold(args[i], "count") {
			args[i] = strings.ToLower(args[i])
		}
	}
	r.mu.Lock()
	r.cmds = append(r.cmds, args)
	r.mu.Unlock()
}

func (r *commandRecorder) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmds := r.cmds
	r.cmds = nil
	return cmds
}

func (r *commandRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *commandRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *commandRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func TestRedisDefaults(t *testing.T) {
	t.Parallel()
	r := NewRedis(nil, RedisOptions{})
	require.Equal(t, "vendure-session-cache:", r.keyPrefix)
	require.Equal(t, 24*time.Hour, r.ttl)
	require.Equal(t, 50*time.Millisecond, r.operationTimeout)
	require.Equal(t, "vendure-session-cache:generation", r.genKey)

	opts := RedisOptions{KeyPrefix: "p:", TTL: time.Hour, OperationTimeout: time.Second}
	r = NewRedis(nil, opts)
	require.Equal(t, RedisOptions{KeyPrefix: r.keyPrefix, TTL: r.ttl, OperationTimeout: r.operationTimeout}, opts)
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	require.Equal(t, "vendure-session-cache:", escapeGlob("vendure-session-cache:"))
	require.Equal(t, `a\*b\?c\[d\]e\\f`, escapeGlob(`a*b?c[d]e\f`))
}

// TestRedisUnreachable checks that every operation against a server that is
// gone returns an error.
func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client, mr := testenv.Miniredis(t)
	s := NewRedis(client, RedisOptions{OperationTimeout: 200 * time.Millisecond})
	require.NoError(t, s.Set(ctx, "k", fullSession(), s.Generation()))
	mr.Close()

	require.Error(t, s.Set(ctx, "k", fullSession(), s.Generation()))
	got, err := s.Get(ctx, "k")
	require.Error(t, err)
	require.Nil(t, got)
	require.Error(t, s.Delete(ctx, "k"))
	require.Error(t, s.Clear(ctx))
	_, err = s.Probe(ctx)
	require.Error(t, err)
}

// TestRedisStalledServer checks that the operation timeouts bound every call
// to a server that accepts connections but never answers. The client's own
// socket timeouts are an hour, so only the strategy's deadlines can end the
// calls; a guard fails the test, rather than hang it, if they do not.
func TestRedisStalledServer(t *testing.T) {
	t.Parallel()
	addr := stalledServer(t)
	client := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Hour,
		ReadTimeout:           time.Hour,
		WriteTimeout:          time.Hour,
		PoolTimeout:           time.Hour,
	})
	t.Cleanup(func() { _ = client.Close() })
	s := NewRedis(client, RedisOptions{OperationTimeout: 100 * time.Millisecond})

	calls := map[string]func(ctx context.Context) error{
		"Set": func(ctx context.Context) error { return s.Set(ctx, "k", fullSession(), s.Generation()) },
		"Get": func(ctx context.Context) error {
			got, err := s.Get(ctx, "k")
			if got != nil {
				return errors.New("Get returned a session")
			}
			return err
		},
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"Clear":  func(ctx context.Context) error { return s.Clear(ctx) },
		"Probe": func(ctx context.Context) error {
			_, err := s.Probe(ctx)
			return err
		},
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call(context.Background()) }()
		select {
		case err := <-done:
			require.Error(t, err, name)
			require.ErrorIs(t, err, context.DeadlineExceeded, name)
		case <-time.After(time.Minute):
			t.Fatalf("%s did not return: the operation timeout is not applied", name)
		}
	}
}

// stalledServer listens on a local port, accepts connections and never
// answers; it stops when the test ends.
func stalledServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}
