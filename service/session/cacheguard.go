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

// The cache breaker: when reads and writes (get and set) fail often enough
// the guard goes down (cacheDown), and no request calls the cache until the
// background sync finds it answering. Fewer failures are misses and no
// more: one call past SESSION_CACHE_TIMEOUT on a loaded machine, or a
// handful of them timing out together in one scheduling hiccup, costs
// those requests one database read each, not every request a database
// read until the next sync.
//
// The guard goes down when, within one window of cacheBreakerWindow (fixed
// windows on the clock), at least cacheBreakerMinFailures get and set calls
// failed and they were at least half the calls of that window. Half, and
// not a count of consecutive failures: under load calls run concurrently
// and slowness is correlated, so many can time out together while the
// cache serves every other call of the second; an outage fails nearly
// every call. The minimum keeps a window with little traffic from going
// down on two failures out of three. A cache that fails persistently with
// too little traffic to reach it is taken down by the background sync,
// whose probe fails (SyncCache, once a second).
//
// A failed delete or clear (a revocation the cache may not have applied),
// a failed probe and a failed sync put the guard down at once, whatever
// the breaker counts: reads must not trust a cache that may still hold a
// revoked session (the revocation invariant, cachesync.go).
const (
	cacheBreakerWindow      = time.Second
	cacheBreakerMinFailures = 10
)

// States of a cacheGuard.
const (
	// cacheHealthy: reads and writes go to the cache.
	cacheHealthy int32 = iota
	// cacheRecovering: the cache answers again, but evictions it missed are
	// being applied; writes go to it, reads do not (they could see an entry
	// an eviction has not reached yet).
	cacheRecovering
	// cacheDown: the breaker opened, or a revocation, probe or sync failed;
	// nothing goes to the cache until the background sync
	// (Service.SyncCache) finds it answering.
	cacheDown
)

// cacheGuard is how Service uses its cache. A failing call is a miss
// (or a no-op), never an error for the request. Failed reads and writes
// are counted by the breaker (see cacheBreakerWindow), which puts the
// guard in cacheDown when they are too many; a failed revocation puts it
// there at once. From then on no request calls the cache (so an outage
// does not add a timeout to every request) until Service.SyncCache, in the
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
	breaker  cacheBreaker
}

// cacheBreaker counts the get and set calls of the current window and how
// many failed. The counts are reset by whichever call first sees a new
// window; calls racing with the reset may be counted in either window,
// which only blurs a window's edge.
type cacheBreaker struct {
	window   atomic.Int64 // the current window: Unix nanoseconds / cacheBreakerWindow
	calls    atomic.Int64
	failures atomic.Int64
}

// record counts one call at now and reports whether the breaker opens.
func (b *cacheBreaker) record(now time.Time, failed bool) bool {
	w := now.UnixNano() / int64(cacheBreakerWindow)
	if cur := b.window.Load(); cur != w && b.window.CompareAndSwap(cur, w) {
		b.calls.Store(0)
		b.failures.Store(0)
	}
	calls := b.calls.Add(1)
	if !failed {
		return false
	}
	failures := b.failures.Add(1)
	return failures >= cacheBreakerMinFailures && 2*failures >= calls
}

// reset forgets the counts (the guard is healthy again).
func (b *cacheBreaker) reset() {
	b.calls.Store(0)
	b.failures.Store(0)
}

// get returns the entry under key, or nil (see lookup).
func (g *cacheGuard) get(ctx context.Context, key string) *sessioncache.CachedSession {
	cs, _ := g.lookup(ctx, key)
	return cs
}

// lookup returns the entry under key, or nil. answered reports whether the
// cache answered: false when the guard is not healthy or the call failed,
// so that a nil is not taken for the cache's word that there is no entry.
func (g *cacheGuard) lookup(ctx context.Context, key string) (cs *sessioncache.CachedSession, answered bool) {
	if g.state.Load() != cacheHealthy {
		return nil, false
	}
	cs, err := g.cache.Get(ctx, key)
	if err != nil {
		g.failed(ctx, "get", err)
		return nil, false
	}
	g.breaker.record(g.now(), false)
	return cs, true
}

// generation returns the stamp to take before reading what will be cached.
func (g *cacheGuard) generation() sessioncache.Generation { return g.cache.Generation() }

// healthy reports whether reads and writes both go to the cache.
func (g *cacheGuard) healthy() bool { return g.state.Load() == cacheHealthy }

// set stores cs under key and reports whether the cache took the call (a
// revoked key's write is taken and ignored, as the Strategy contract says).
// A failed write is counted by the breaker: a write that did not land is
// a later miss, and one that landed late carries its generation, so it
// can never bring a revoked session back.
func (g *cacheGuard) set(ctx context.Context, key string, cs *sessioncache.CachedSession, gen sessioncache.Generation) bool {
	if g.state.Load() == cacheDown {
		return false
	}
	if err := g.cache.Set(ctx, key, cs, gen); err != nil {
		g.failed(ctx, "set", err)
		return false
	}
	g.breaker.record(g.now(), false)
	return true
}

// delete revokes keys and reports whether the cache applied it. A failure
// puts the guard down at once.
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

// clear clears the cache and reports whether it was applied. A failure
// puts the guard down at once.
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

// failed records a failed get or set: a miss for its request, and a count
// for the breaker, which puts the guard down when it opens.
func (g *cacheGuard) failed(ctx context.Context, op string, err error) {
	g.record(op, err)
	if g.breaker.record(g.now(), true) {
		g.down(ctx, op, err)
		return
	}
	g.failures.Add(1)
	if g.mayWarn(false) {
		g.log.InfoContext(ctx, "session cache calls failed; served as misses",
			"op", op, "err", err, "failures", g.failures.Swap(0))
	}
}

// fail records a failed call (an eviction, a clear, the background
// probe) and puts the guard down at once.
func (g *cacheGuard) fail(ctx context.Context, op string, err error) {
	g.record(op, err)
	g.down(ctx, op, err)
}

// down puts the guard down and logs why: always when it was not down
// already, otherwise at most once per cacheWarnInterval.
func (g *cacheGuard) down(ctx context.Context, op string, err error) {
	wasDown := g.state.Swap(cacheDown) == cacheDown
	g.failures.Add(1)
	if g.mayWarn(!wasDown) {
		g.log.WarnContext(ctx, "session cache failing; serving from the database",
			"op", op, "err", err, "failures", g.failures.Swap(0))
	}
}

// mayWarn reports whether a line may be logged now: always when forced,
// otherwise unless one was logged within cacheWarnInterval.
func (g *cacheGuard) mayWarn(force bool) bool {
	now := g.now().UnixNano()
	if force {
		g.warnedAt.Store(now)
		return true
	}
	last := g.warnedAt.Load()
	return now-last >= int64(cacheWarnInterval) && g.warnedAt.CompareAndSwap(last, now)
}

// recover makes a recovering guard healthy, with the breaker's counts
// forgotten, and reports whether it did (false: it went down meanwhile).
func (g *cacheGuard) recover() bool {
	if !g.state.CompareAndSwap(cacheRecovering, cacheHealthy) {
		return false
	}
	g.breaker.reset()
	return true
}

// CacheTrusted reports whether requests use the session cache now: false
// while it is out of use (after an outage, or since start when it did not
// answer then), until the background sync finds it answering and has
// applied the evictions it missed.
func (s *Service) CacheTrusted() bool { return s.cache.healthy() }
