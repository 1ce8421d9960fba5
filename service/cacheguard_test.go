package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/sessioncache"
)

// flakyCache is a memory cache that can be taken down, counting the calls
// that reach it.
type flakyCache struct {
	mu     sync.Mutex
	down   bool
	calls  int
	clears int
	next   *sessioncache.Memory
}

func (f *flakyCache) enter() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return errors.New("connection refused")
	}
	return nil
}

func (f *flakyCache) Set(ctx context.Context, k string, s *sessioncache.CachedSession) error {
	if err := f.enter(); err != nil {
		return err
	}
	return f.next.Set(ctx, k, s)
}

func (f *flakyCache) Get(ctx context.Context, k string) (*sessioncache.CachedSession, error) {
	if err := f.enter(); err != nil {
		return nil, err
	}
	return f.next.Get(ctx, k)
}

func (f *flakyCache) Delete(ctx context.Context, k string) error {
	if err := f.enter(); err != nil {
		return err
	}
	return f.next.Delete(ctx, k)
}

func (f *flakyCache) Clear(ctx context.Context) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	f.clears++
	f.mu.Unlock()
	return f.next.Clear(ctx)
}

func (f *flakyCache) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *flakyCache) count() (calls, clears int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.clears
}

func newGuard(t *testing.T) (*cacheGuard, *flakyCache, *testenv.Clock) {
	t.Helper()
	mem, err := sessioncache.NewMemory(100)
	require.NoError(t, err)
	clock := testenv.NewClock()
	f := &flakyCache{next: mem}
	return &cacheGuard{cache: f, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: clock.Now}, f, clock
}

// An eviction lost during an outage (a logout, say) must not let the old
// entry be served once the cache answers again.
func TestCacheGuardClearsAfterLostEviction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, f, clock := newGuard(t)
	g.set(ctx, "k", &sessioncache.CachedSession{ID: 1})
	require.NotNil(t, g.get(ctx, "k"))

	f.setDown(true)
	g.delete(ctx, "k") // fails: the entry stays in the cache
	f.setDown(false)

	// Within the retry interval the cache is not even asked.
	calls, _ := f.count()
	require.Nil(t, g.get(ctx, "k"))
	after, _ := f.count()
	require.Equal(t, calls, after)

	clock.Advance(cacheRetryAfter)
	require.Nil(t, g.get(ctx, "k"), "the value read before the clear is not trusted")
	_, clears := f.count()
	require.Equal(t, 1, clears)
	require.Nil(t, g.get(ctx, "k"), "the stale entry is gone")

	g.set(ctx, "k", &sessioncache.CachedSession{ID: 2})
	require.EqualValues(t, 2, g.get(ctx, "k").ID)
}

// A failed read alone loses nothing: the cache is trusted again at once.
func TestCacheGuardReadFailureNeedsNoClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, f, clock := newGuard(t)
	g.set(ctx, "k", &sessioncache.CachedSession{ID: 7})
	f.setDown(true)
	require.Nil(t, g.get(ctx, "k"))
	f.setDown(false)
	clock.Advance(cacheRetryAfter + time.Millisecond)
	cs := g.get(ctx, "k")
	require.NotNil(t, cs)
	require.EqualValues(t, 7, cs.ID)
	_, clears := f.count()
	require.Zero(t, clears)
}

// While failing, writes are skipped (and remembered), and a failed probe
// waits another interval.
func TestCacheGuardSkipsWhileFailing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, f, clock := newGuard(t)
	f.setDown(true)
	require.Nil(t, g.get(ctx, "a"))
	before, _ := f.count()
	for range 100 {
		g.set(ctx, "a", &sessioncache.CachedSession{ID: 1})
		require.Nil(t, g.get(ctx, "a"))
	}
	after, _ := f.count()
	require.Equal(t, before, after, "no call reaches a failing cache within the interval")

	clock.Advance(cacheRetryAfter)
	require.Nil(t, g.get(ctx, "a")) // the probe fails: still down
	probes, _ := f.count()
	require.Equal(t, after+1, probes)
	require.Nil(t, g.get(ctx, "a"))
	again, _ := f.count()
	require.Equal(t, probes, again)
}
