package service

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/shopsession/sessionserver/sessioncache"
)

// cacheRetryAfter is how long the cache is left alone after a failure
// before one call probes it again.
const cacheRetryAfter = time.Second

// cacheWarnInterval bounds how often cache failures are logged: during an
// outage every request fails, and one line a second (with the count since
// the last line) says as much as thousands.
const cacheWarnInterval = time.Second

// cacheGuard is how SessionService uses its cache. A failing call is a miss
// (or a no-op), never an error for the request. After a failure the cache is
// skipped for cacheRetryAfter, so an outage does not add a timeout to every
// request. Any write or eviction that failed or was skipped may have left a
// stale entry behind (a logged-out token still cached, say), so when the
// cache answers again it is cleared before it is trusted.
type cacheGuard struct {
	cache sessioncache.Strategy
	log   *slog.Logger
	now   func() time.Time

	failing  atomic.Bool
	retryAt  atomic.Int64 // Unix nanoseconds
	dirty    atomic.Bool  // a write or eviction was lost while failing
	failures atomic.Int64 // since the last warning
	warnedAt atomic.Int64 // Unix nanoseconds
}

// usable reports whether to call the cache now: always when it is healthy,
// and for a probe once cacheRetryAfter has passed since the last failure.
func (g *cacheGuard) usable() bool {
	return !g.failing.Load() || g.now().UnixNano() >= g.retryAt.Load()
}

func (g *cacheGuard) get(ctx context.Context, key string) *sessioncache.CachedSession {
	if !g.usable() {
		return nil
	}
	cs, err := g.cache.Get(ctx, key)
	if err != nil {
		g.fail(ctx, "get", err, false)
		return nil
	}
	if !g.recovered(ctx) {
		return nil
	}
	return cs
}

func (g *cacheGuard) set(ctx context.Context, key string, cs *sessioncache.CachedSession) {
	g.write(ctx, "set", func(ctx context.Context) error { return g.cache.Set(ctx, key, cs) })
}

func (g *cacheGuard) delete(ctx context.Context, key string) {
	g.write(ctx, "delete", func(ctx context.Context) error { return g.cache.Delete(ctx, key) })
}

func (g *cacheGuard) clear(ctx context.Context) {
	g.write(ctx, "clear", func(ctx context.Context) error {
		if err := g.cache.Clear(ctx); err != nil {
			return err
		}
		g.dirty.Store(false)
		return nil
	})
}

// write runs a call that changes the cache; a skipped or failed one marks
// the cache dirty.
func (g *cacheGuard) write(ctx context.Context, op string, call func(context.Context) error) {
	if !g.usable() {
		g.dirty.Store(true)
		return
	}
	if err := call(ctx); err != nil {
		g.fail(ctx, op, err, true)
		return
	}
	g.recovered(ctx)
}

// recovered is called after a successful call. If the cache had been
// failing and lost writes meanwhile, it is cleared. It reports whether what
// the call read can be trusted: not when the cache had to be cleared (the
// value read predates the clear) or the clear failed.
func (g *cacheGuard) recovered(ctx context.Context) bool {
	if !g.failing.Load() || !g.failing.CompareAndSwap(true, false) {
		return true
	}
	if !g.dirty.Swap(false) {
		g.log.InfoContext(ctx, "session cache answering again")
		return true
	}
	if err := g.cache.Clear(context.WithoutCancel(ctx)); err != nil {
		g.fail(ctx, "clear", err, true)
		return false
	}
	g.log.InfoContext(ctx, "session cache answering again; cleared it, since evictions were lost meanwhile")
	return false
}

// fail records a failed call and logs it, at most once per
// cacheWarnInterval.
func (g *cacheGuard) fail(ctx context.Context, op string, err error, write bool) {
	if write {
		g.dirty.Store(true)
	}
	now := g.now().UnixNano()
	g.retryAt.Store(now + int64(cacheRetryAfter))
	g.failing.Store(true)
	g.failures.Add(1)
	last := g.warnedAt.Load()
	if now-last < int64(cacheWarnInterval) || !g.warnedAt.CompareAndSwap(last, now) {
		return
	}
	g.log.WarnContext(ctx, "session cache failing; serving from the database",
		"op", op, "err", err, "failures", g.failures.Swap(0))
}
