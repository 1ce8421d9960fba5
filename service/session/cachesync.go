package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
)

// Revocation invariant. Once DeleteSessionsByUser,
// DeleteSessionsByActiveOrderID, the administration's EndSessionsByUser,
// EndSessionsByActiveOrder or EndSession, AuthService.DestroyAuthenticatedSession
// (logout) or CleanExpiredSessions returns, no token it removed is accepted
// again, on any instance:
//
//   - The database is the truth: the rows are gone when the call returns, and
//     a lookup that misses the cache finds nothing.
//   - A cache write can never bring a removed session back. Every write
//     carries the cache Generation taken before the data it writes was read
//     from the database, and the strategies refuse a write of a revoked key
//     with an older generation (a tombstone with the revocation clock's value
//     in Redis, a revocation counter in memory; see sessioncache.Strategy).
//     So a login's or a lookup's write that was in flight while the logout
//     ran cannot land after it, while a write whose data was read after it
//     is stored (docs/cache-format.md).
//   - An eviction is never lost. With a cache shared between instances
//     (Redis), the evictions are written to session_cache_outbox in the same
//     transaction as the delete. The deleting instance applies them after
//     commit; if it cannot reach the cache, every instance's SyncCache
//     (once a second) applies whatever is pending, and the deleting instance
//     reads nothing from the cache until the outbox is drained. Between the
//     failure and the next sync (about a second) another instance may still
//     answer a removed token from Redis: that second is the whole window.
//   - A master switch (Sentinel or Cluster failover, a restart) may lose
//     evictions Redis had acknowledged. SyncCache notices the change of
//     master, clears the cache (on Redis the floor rises to the revocation
//     clock, which keeps growing across a switch that lost its last
//     increments) and applies again every eviction of the last
//     cacheReplayWindow, reading nothing
//     from the cache until it has. Between the switch and that sync (about
//     a second, plus go-redis's own move to the new master) an eviction
//     the switch lost can show: that is the second window. It is each
//     instance's own: one whose client has not moved yet may apply other
//     instances' pending evictions to the old master, and they show on
//     every instance until its sync after the move applies them again.
//   - With a memory tier in front of Redis on each instance
//     (redis+memory, redisstore.Tiered), Redis announces every write over
//     pub/sub, and another instance's memory drops the key when the
//     announcement arrives (within its delivery time). An instance reads its
//     memory only while the marker its probe here publishes comes back,
//     and within a lease after it: one cut from Redis stops within the same
//     second as the windows above.
//
// Clears (channel and role changes) go through the outbox in the same way.

// cacheSyncInterval is how often the CacheSyncer calls SyncCache.
const cacheSyncInterval = time.Second

// cacheReplayWindow is how long applied outbox rows are kept, to be applied
// again after a master switch. A switch loses the writes acknowledged by
// the old master between its replica's promotion and the clients' move to
// the new one: seconds, with Sentinel's default timeouts.
const cacheReplayWindow = time.Minute

// outboxBatch is how many outbox rows SyncCache applies at once.
const outboxBatch = 1000

// revoke queues the eviction of the cache keys hashes after t commits.
// With a shared cache they are recorded in the outbox in t, so they are
// applied even if this process cannot reach the cache.
func (s *Service) revoke(ctx context.Context, t *Tx, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	var ids []entity.ID
	if s.prober != nil {
		now := s.nowUTC()
		rows := make([]entity.SessionCacheOutbox, len(hashes))
		for i := range hashes {
			rows[i] = entity.SessionCacheOutbox{TokenHash: &hashes[i], CreatedAt: now}
		}
		if _, err := t.NewInsert().Model(&rows).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("record cache evictions: %w", err)
		}
		ids = make([]entity.ID, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
	}
	t.OnCommit(func(ctx context.Context) {
		if s.cache.delete(ctx, hashes...) {
			s.markApplied(ctx, ids)
		}
	})
	return nil
}

// ClearCache makes every cached session unreadable (one script on Redis).
// Channel and role changes call it after commit. With a shared cache the
// clear is recorded in the outbox first, so it is applied even if this
// process cannot reach the cache.
func (s *Service) ClearCache(ctx context.Context) {
	var ids []entity.ID
	if s.prober != nil {
		row := &entity.SessionCacheOutbox{CreatedAt: s.nowUTC()}
		if _, err := s.db.NewInsert().Model(row).Returning("id").Exec(ctx); err != nil {
			// The change is committed: clear anyway.
			s.log.ErrorContext(ctx, "record cache clear", "err", err)
		} else {
			ids = []entity.ID{row.ID}
		}
	}
	if s.cache.clear(ctx) {
		s.markApplied(ctx, ids)
	}
}

// markApplied stamps outbox rows applied, logging a failure (harmless: a
// sync applies them again; evictions are idempotent).
func (s *Service) markApplied(ctx context.Context, ids []entity.ID) {
	if err := s.stampApplied(ctx, ids); err != nil {
		s.log.WarnContext(ctx, "mark cache evictions applied", "err", err)
	}
}

// stampApplied stamps outbox rows applied. On PostgreSQL it skips rows
// another instance is stamping (FOR UPDATE SKIP LOCKED): two instances'
// syncs, or a sync and the clean-up, stamp overlapping sets of rows, and
// taking their row locks in different orders deadlocked (40P01). The other
// instance stamps what is skipped. SQLite has one writer.
func (s *Service) stampApplied(ctx context.Context, ids []entity.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if s.db.Dialect().Name() != dialect.PG {
		_, err := s.db.NewUpdate().Model((*entity.SessionCacheOutbox)(nil)).
			Set("applied_at = ?", s.nowUTC()).Where("id IN (?)", bun.List(ids)).Exec(ctx)
		return err
	}
	_, err := s.db.NewRaw("UPDATE session_cache_outbox SET applied_at = ? WHERE id IN "+
		"(SELECT id FROM session_cache_outbox WHERE id IN (?) AND applied_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED)",
		s.nowUTC(), bun.List(ids)).Exec(ctx)
	return err
}

// SyncCache is one round of the background work that keeps the cache
// trustworthy (see the revocation invariant above):
//
//   - Channel and role changes made on any instance are loaded
//     (AccessSyncFunc); a cache that is not shared is cleared after one.
//   - A shared cache is probed. If its master changed since the last probe,
//     it is cleared and the evictions of the last cacheReplayWindow are
//     applied again, with reads off meanwhile.
//   - Pending outbox rows (anyone's) are applied and stamped.
//   - A cache that was down is trusted again only once all of that is done.
//   - Applied rows older than cacheReplayWindow are removed.
//
// A cache that is not shared (memory) cannot lose evictions; it is only
// cleared if it was down. The CacheSyncer calls SyncCache every second;
// tests call it directly.
func (s *Service) SyncCache(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.syncAccess(ctx)
	g := s.cache
	if s.prober == nil {
		if g.state.Load() != cacheHealthy && g.cache.Clear(ctx) == nil {
			g.breaker.reset()
			g.state.Store(cacheHealthy)
		}
		return nil
	}

	identity, err := s.prober.Probe(ctx)
	if err != nil {
		g.fail(ctx, "probe", err)
		return nil
	}
	switched := s.cacheIdentity != "" && identity != s.cacheIdentity
	wasDown := g.state.Load() == cacheDown
	if switched || wasDown {
		// From here on writes reach the cache; reads wait until every
		// eviction it may have missed is applied.
		g.state.Store(cacheRecovering)
	}
	if switched {
		s.log.WarnContext(ctx, "session cache master changed; clearing it and applying recent evictions again",
			"window", cacheReplayWindow)
		if err := s.replayOutbox(ctx); err != nil {
			return s.syncFailed(ctx, err)
		}
	}
	// Only a finished replay makes the new master known: a replay cut
	// short is run again by the next sync.
	s.cacheIdentity = identity
	if err := s.drainOutbox(ctx); err != nil {
		return s.syncFailed(ctx, err)
	}
	if g.recover() && wasDown {
		s.log.InfoContext(ctx, "session cache answering again; missed evictions applied")
	}
	if _, err := s.db.NewDelete().Model((*entity.SessionCacheOutbox)(nil)).
		Where("applied_at IS NOT NULL AND created_at < ?", s.nowUTC().Add(-cacheReplayWindow)).
		Exec(ctx); err != nil {
		return fmt.Errorf("remove old cache evictions: %w", err)
	}
	return nil
}

// syncAccess runs the AccessSyncFunc, and clears a cache that is not
// shared when channels or roles changed. A failure is logged: the next
// round tries again, and it must not stop the cache's own sync.
func (s *Service) syncAccess(ctx context.Context) {
	if s.accessSync == nil {
		return
	}
	changed, err := s.accessSync(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "channel and role sync", "err", err)
		return
	}
	if changed && s.prober == nil {
		s.cache.clear(ctx)
	}
}

// syncFailed puts the guard down when the sync could not finish: the cache
// must not be read before a sync has.
func (s *Service) syncFailed(ctx context.Context, err error) error {
	s.cache.fail(ctx, "sync", err)
	return err
}

var errCacheUnavailable = errors.New("session cache unavailable")

// drainOutbox applies every pending outbox row.
func (s *Service) drainOutbox(ctx context.Context) error {
	for {
		var rows []entity.SessionCacheOutbox
		if err := s.db.NewSelect().Model(&rows).Where("applied_at IS NULL").
			Order("id").Limit(outboxBatch).Scan(ctx); err != nil {
			return fmt.Errorf("read pending cache evictions: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := s.apply(ctx, rows); err != nil {
			return err
		}
		ids := make([]entity.ID, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		if err := s.stampApplied(ctx, ids); err != nil {
			return fmt.Errorf("mark cache evictions applied: %w", err)
		}
		if len(rows) < outboxBatch {
			return nil
		}
	}
}

// replayOutbox clears the cache and applies again every eviction of the
// last cacheReplayWindow, applied or not.
func (s *Service) replayOutbox(ctx context.Context) error {
	if err := s.cache.cache.Clear(ctx); err != nil {
		return fmt.Errorf("%w: clear: %w", errCacheUnavailable, err)
	}
	since := s.nowUTC().Add(-cacheReplayWindow)
	var last entity.ID
	for {
		var rows []entity.SessionCacheOutbox
		if err := s.db.NewSelect().Model(&rows).Where("created_at >= ? AND id > ? AND token_hash IS NOT NULL", since, last).
			Order("id").Limit(outboxBatch).Scan(ctx); err != nil {
			return fmt.Errorf("read recent cache evictions: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := s.apply(ctx, rows); err != nil {
			return err
		}
		last = rows[len(rows)-1].ID
	}
}

// apply sends outbox rows to the cache: one pipelined Delete of their keys,
// and one Clear if any row is a clear.
func (s *Service) apply(ctx context.Context, rows []entity.SessionCacheOutbox) error {
	keys := make([]string, 0, len(rows))
	clear := false
	for _, r := range rows {
		if r.TokenHash == nil {
			clear = true
			continue
		}
		keys = append(keys, *r.TokenHash)
	}
	if err := s.cache.cache.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("%w: evict: %w", errCacheUnavailable, err)
	}
	if clear {
		if err := s.cache.cache.Clear(ctx); err != nil {
			return fmt.Errorf("%w: clear: %w", errCacheUnavailable, err)
		}
	}
	return nil
}
