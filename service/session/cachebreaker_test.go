package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// slowCache is a memory cache posing as a shared one (it can be probed)
// whose reads and writes time out now and then: every one in failEvery
// (0: never; 1: always). Deletes fail while failDeletes is set.
type slowCache struct {
	*sessioncache.Memory
	failEvery   atomic.Int64
	failDeletes atomic.Bool
	calls       atomic.Int64 // Get and Set calls
	failed      atomic.Int64
}

func (c *slowCache) timedOut() error {
	n := c.calls.Add(1)
	if every := c.failEvery.Load(); every > 0 && n%every == 0 {
		c.failed.Add(1)
		return fmt.Errorf("sessioncache: redis MGET: i/o timeout (%w)", context.DeadlineExceeded)
	}
	return nil
}

func (c *slowCache) Get(ctx context.Context, key string) (*sessioncache.CachedSession, error) {
	if err := c.timedOut(); err != nil {
		return nil, err
	}
	return c.Memory.Get(ctx, key)
}

func (c *slowCache) Set(ctx context.Context, key string, cs *sessioncache.CachedSession, gen sessioncache.Generation) error {
	if err := c.timedOut(); err != nil {
		return err
	}
	return c.Memory.Set(ctx, key, cs, gen)
}

func (c *slowCache) Delete(ctx context.Context, keys ...string) error {
	if c.failDeletes.Load() {
		return errors.New("sessioncache: redis EVALSHA: i/o timeout")
	}
	return c.Memory.Delete(ctx, keys...)
}

func (c *slowCache) Probe(context.Context) (string, error) { return "master-1", nil }

func newSlowCacheSessions(t *testing.T, opts ...func(*Config)) (*Service, *slowCache, *testenv.Clock) {
	t.Helper()
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1000})
	require.NoError(t, err)
	c := &slowCache{Memory: mem}
	clock := testenv.NewClock()
	cfg := Config{DB: testenv.SQLiteDB(t), Cache: c, NowFunc: clock.Now, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.SyncCache(context.Background()))
	return s, c, clock
}

// A cache that times out one call in 50, through a long run of lookups
// (each failed read a database read, each failed write a later miss),
// never takes the guard down: every lookup finds the session, and the
// cache keeps answering the others.
func TestCacheBreakerToleratesOccasionalTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, clock := newSlowCacheSessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	c.failEvery.Store(50)

	const lookups = 5000
	for i := range lookups {
		got, err := s.GetSessionFromToken(ctx, cs.Token)
		require.NoError(t, err)
		require.Equal(t, cs.ID, got.ID)
		require.True(t, s.cache.healthy(), "lookup %d took the guard down", i)
		clock.Advance(7 * time.Millisecond) // through about 35 windows
	}
	require.Positive(t, c.failed.Load())
	stats := s.LookupStats()
	require.Greater(t, stats.CacheHits, int64(lookups*9/10), "the cache answered most lookups")
	require.Positive(t, stats.DatabaseReads, "a failed read was a miss")
}

// The same from concurrent lookups (one in 50 calls of all of them
// failing), all within one window of the breaker.
func TestCacheBreakerToleratesOccasionalTimeoutsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, _ := newSlowCacheSessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	c.failEvery.Store(50)

	var wg sync.WaitGroup
	var downs atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 250 {
				if _, err := s.GetSessionFromToken(ctx, cs.Token); err != nil {
					t.Error(err)
					return
				}
				if !s.cache.healthy() {
					downs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Positive(t, c.failed.Load())
	require.Zero(t, downs.Load(), "the guard went down")
}

// A cache whose every call fails takes the guard down within
// cacheBreakerMinFailures lookups (each a failed read and a failed write); from then on no lookup calls it, and
// the background sync brings it back once it answers.
func TestCacheBreakerOpensOnPersistentFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, _ := newSlowCacheSessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	c.failEvery.Store(1)

	for i := range cacheBreakerMinFailures {
		_, err := s.GetSessionFromToken(ctx, cs.Token)
		require.NoError(t, err, "a failed cache is a miss")
		if i == 0 {
			require.True(t, s.cache.healthy(), "one failed lookup took the guard down")
		}
	}
	require.False(t, s.cache.healthy())
	calls := c.calls.Load()
	for range 100 {
		_, err := s.GetSessionFromToken(ctx, cs.Token)
		require.NoError(t, err)
	}
	require.Equal(t, calls, c.calls.Load(), "no lookup calls a cache that is down")

	c.failEvery.Store(0)
	require.NoError(t, s.SyncCache(ctx))
	require.True(t, s.cache.healthy())
	hits := s.LookupStats().CacheHits
	_, err = s.GetSessionFromToken(ctx, cs.Token) // cached again by the first lookup after the sync
	require.NoError(t, err)
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.NoError(t, err)
	require.Greater(t, s.LookupStats().CacheHits, hits)
}

// Failures that are frequent but not most calls of a window (one in
// three) leave the guard up; the same count of failures as most of a
// window's calls takes it down.
func TestCacheBreakerRatio(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b cacheBreaker
	for i := range 300 {
		require.False(t, b.record(start, i%3 == 0), "call %d", i)
	}
	// The next window starts afresh: its first failures are all its calls.
	next := start.Add(cacheBreakerWindow)
	for i := range cacheBreakerMinFailures - 1 {
		require.False(t, b.record(next, true), "failure %d", i)
	}
	require.True(t, b.record(next, true))
}

// A failed delete (a revocation the cache may not have applied) takes the
// guard down at once, even with the breaker far from open: the revoked
// session is not read from the cache, and is not found.
func TestFailedDeleteTakesGuardDownAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, _ := newSlowCacheSessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.NoError(t, err)

	c.failDeletes.Store(true)
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	require.False(t, s.cache.healthy(), "one failed delete takes the guard down")
	stale, err := c.Memory.Get(ctx, HashToken(cs.Token))
	require.NoError(t, err)
	require.NotNil(t, stale, "the premise: the entry is still in the cache")
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)

	c.failDeletes.Store(false)
	require.NoError(t, s.SyncCache(ctx))
	require.True(t, s.cache.healthy())
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)
}

// A cache-only guest whose read fails (the breaker tolerates it) is not
// found for that request, but its token is not remembered as unknown: the
// next lookup, which the cache answers, finds it.
func TestFailedReadIsNotTakenForAnUnknownToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c, _ := newSlowCacheSessions(t, func(cfg *Config) {
		cfg.LazyGuestSessions = true
		cfg.NegativeCacheSize = 100
	})
	guest, err := s.CreateAnonymousSession(ctx, nil)
	require.NoError(t, err)
	require.False(t, guest.Stored(), "the premise: a cache-only guest")

	c.failEvery.Store(1)
	_, err = s.GetSessionFromToken(ctx, guest.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)
	require.True(t, s.cache.healthy())
	require.False(t, s.negative.has(HashToken(guest.Token), s.now()), "remembered as unknown")

	c.failEvery.Store(0)
	got, err := s.GetSessionFromToken(ctx, guest.Token)
	require.NoError(t, err)
	require.Equal(t, guest.ID, got.ID)
}

// A Service started with CacheDown reads nothing from the cache until a
// sync finds it answering.
func TestCacheDownAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	c := &slowCache{Memory: mem}
	s, err := New(Config{DB: testenv.SQLiteDB(t), Cache: c, CacheDown: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.False(t, s.CacheTrusted())
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.NoError(t, err)
	require.Zero(t, c.calls.Load(), "no call reaches a cache that is down")

	require.NoError(t, s.SyncCache(ctx))
	require.True(t, s.CacheTrusted())
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.NoError(t, err)
	require.Positive(t, c.calls.Load())
}
