package session

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/shopsession/sessionserver/sessioncache"
)

// cacheWarnInterval bounds how often cache failures are logged: during an
// outage every request could fail, and one line a second (with the count
// since the last line) says as much as thousands.
const cacheWarnInterval = time.Second

// States of a cacheGuard.
const (
	// cacheHealthy: reads and writes go to the cache.
	cacheHealthy int32 = iota
	// cacheRecovering: the cache answers again, but evictions it missed are
	// being applied; writes go to it, reads do not (they could see an entry
	// an eviction has not reached yet).
	cacheRecovering
	// cacheDown: a call failed; nothing goes to the cache until the
	// background sync (Service.SyncCache) finds it answering.
	cacheDown
)

// cacheGuard is how Service uses its cache. A failing call is a miss
// (or a no-op), never an error for the request, and puts the guard in
// cacheDown: from then on no request calls the cache (so an outage does not
// add a timeout to every request) until Service.SyncCache, in the
// background, finds it answering and has applied every eviction it missed.
// No request ever waits on a probe.
type cacheGuard struct {
	cache sessioncache.Strategy
	log   *slog.Logger
	now   func() time.Time
	// metrics counts the failed calls; nil counts none.
	metrics Recorder

	state    atomic.Int32
	failures atomic.Int64 // since the last warning
	warnedAt atomic.Int64 // Unix nanoseconds
}

func (g *cacheGuard) get(ctx context.Context, key string) *sessioncache.CachedSession {
	if g.state.Load() != cacheHealthy {
		return nil
	}
	cs, err := g.cache.Get(ctx, key)
	if err != nil {
		g.fail(ctx, "get", err)
		return nil
	}
	return cs
}

// generation returns the stamp to take before reading what will be cached.
func (g *cacheGuard) generation() sessioncache.Generation { return g.cache.Generation() }

// healthy reports whether reads and writes both go to the cache.
func (g *cacheGuard) healthy() bool { return g.state.Load() == cacheHealthy }

// set stores cs under key and reports whether the cache took the call (a
// revoked key's write is taken and ignored, as the Strategy contract says).
func (g *cacheGuard) set(ctx context.Context, key string, cs *sessioncache.CachedSession, gen sessioncache.Generation) bool {
	if g.state.Load() == cacheDown {
		return false
	}
	if err := g.cache.Set(ctx, key, cs, gen); err != nil {
		g.fail(ctx, "set", err)
		return false
	}
	return true
}

// delete revokes keys and reports whether the cache applied it.
func (g *cacheGuard) delete(ctx context.Context, keys ...string) bool {
	if len(keys) == 0 {
		return true
	}
	if g.state.Load() == cacheDown {
		return false
	}
	if err := g.cache.Delete(ctx, keys...); err != nil {
		g.fail(ctx, "delete", err)
		return false
	}
	return true
}

// clear clears the cache and reports whether it was applied.
func (g *cacheGuard) clear(ctx context.Context) bool {
	if g.state.Load() == cacheDown {
		return false
	}
	if err := g.cache.Clear(ctx); err != nil {
		g.fail(ctx, "clear", err)
		return false
	}
	return true
}

// fail records a failed call and logs it, at most once per
// cacheWarnInterval.
func (g *cacheGuard) fail(ctx context.Context, op string, err error) {
	g.state.Store(cacheDown)
	g.record(op, err)
	g.failures.Add(1)
	now := g.now().UnixNano()
	last := g.warnedAt.Load()
	if now-last < int64(cacheWarnInterval) || !g.warnedAt.CompareAndSwap(last, now) {
		return
	}
	g.log.WarnContext(ctx, "session cache failing; serving from the database",
		"op", op, "err", err, "failures", g.failures.Swap(0))
}
