package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/internal/testsignal"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Session use is written in the background, never by the request that
// uses the session:
//
//   - Last use. A lookup marks its session used (usageLog.mark: a map
//     insert under one of usageShards locks). The UsageWriter writes the
//     marked sessions' last_used_at every LastUsedInterval, in one UPDATE
//     per usageChunk sessions, skipping a row written less than
//     LastUsedInterval ago (by this instance or another), so each session
//     row gets at most one last-use write per LastUsedInterval whatever the
//     number of instances. The time written is the write's, at or after
//     the use: last_used_at is never later than the real last use by more
//     than two intervals (a use just after a write waits for the next
//     interval's write, which lands at most an interval later).
//   - Sliding expiry on cache hits. A cached session due for renewal (see
//     renewal) is marked for it; the writer extends its row (a guarded
//     UPDATE: a row another instance extended meanwhile is left alone),
//     then caches it again, read afresh, with the generation taken before
//     that read (a revocation meanwhile refuses the write). Each session is
//     renewed at most once per half of its renewal period, as on the
//     database path; its cached copy keeps its old expiry until then,
//     which is at least half a period away.
//
// The marks are bounded (maxUsageMarks per interval); a mark past the
// bound is dropped and counted, the session's next lookup after the write
// marks it again.

// LastUsedInterval is how often the UsageWriter writes, and the least time
// between two last-use writes of one session row.
const LastUsedInterval = time.Minute

// usageSlack is how much earlier than the real last use last_used_at can
// be (see above); the idle timeout allows for it, so it never ends a
// session early.
const usageSlack = 2 * LastUsedInterval

const (
	usageShards   = 16
	usageChunk    = 500
	maxUsageMarks = 1 << 17
)

// usageMark is what a lookup knows of a session's use.
type usageMark struct {
	// renew is set when the session is due for a sliding renewal: its
	// row gets expires = now + lifetime if its expiry is before now+before.
	renew    bool
	lifetime time.Duration
	before   time.Duration
}

type usageShard struct {
	mu    sync.Mutex
	marks map[entity.ID]usageMark
}

// usageLog holds the sessions used since the last write.
type usageLog struct {
	shards  [usageShards]usageShard
	size    atomic.Int64
	dropped atomic.Int64
}

// mark records a use of session id (and a due renewal, if renew.renew).
func (l *usageLog) mark(id entity.ID, m usageMark) {
	sh := &l.shards[uint64(id)%usageShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old, seen := sh.marks[id]
	if seen && (old.renew || !m.renew) {
		return
	}
	if !seen {
		if l.size.Load() >= maxUsageMarks {
			l.dropped.Add(1)
			return
		}
		l.size.Add(1)
	}
	if sh.marks == nil {
		sh.marks = make(map[entity.ID]usageMark)
	}
	sh.marks[id] = m
}

// take returns and forgets every mark.
func (l *usageLog) take() map[entity.ID]usageMark {
	out := make(map[entity.ID]usageMark)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		taken := sh.marks
		sh.marks = nil
		sh.mu.Unlock()
		l.size.Add(-int64(len(taken)))
		for id, m := range taken {
			out[id] = m
		}
	}
	return out
}

// markUsed records that a lookup found cs, a session with a row, at now,
// and whether it is due for a sliding renewal.
func (s *Service) markUsed(cs *sessioncache.CachedSession, now time.Time) {
	if !cs.Stored() {
		return // a cache-only guest: no row (session_guest.go renews it)
	}
	lifetime, renew := s.renewal(cs, cs.Expires.Sub(now))
	m := usageMark{}
	if renew && cs.Expires.Sub(now) < lifetime {
		// Extended only while less than before is left: the rule of
		// renewal, so two instances renewing one session write it once.
		m = usageMark{renew: true, lifetime: lifetime, before: s.renewBefore(cs, lifetime)}
	}
	s.usage.mark(cs.ID, m)
}

// renewBefore is how much expiry a session holding what cs holds has left
// when renewal extends it (see renewal).
func (s *Service) renewBefore(cs *sessioncache.CachedSession, lifetime time.Duration) time.Duration {
	switch {
	case cs.User != nil:
		return lifetime / 2
	case cs.ActiveOrderID != nil:
		return lifetime - min(s.cartIdle, s.duration)/2
	default:
		return lifetime - min(s.anonIdle, s.anonDuration)/2
	}
}

// UsageStats is what the usage writer has done since the service started.
type UsageStats struct {
	// LastUsedWrites are the rows whose last_used_at was written.
	LastUsedWrites int64
	// Renewals are the rows extended by the sliding expiry of cache hits.
	Renewals int64
	// Dropped are the marks dropped past the bound.
	Dropped int64
}

// UsageStats returns the usage writer's counts.
func (s *Service) UsageStats() UsageStats {
	return UsageStats{
		LastUsedWrites: s.usageStats.lastUsed.Load(),
		Renewals:       s.usageStats.renewals.Load(),
		Dropped:        s.usage.dropped.Load(),
	}
}

type usageCounts struct{ lastUsed, renewals atomic.Int64 }

// WriteUsage writes what lookups marked since its last call: last use and
// due renewals (see above). A failed chunk is logged and its marks are
// lost (the sessions' next uses mark them again).
func (s *Service) WriteUsage(ctx context.Context) error {
	marks := s.usage.take()
	if len(marks) == 0 {
		return nil
	}
	now := s.nowUTC()
	used := make([]entity.ID, 0, len(marks))
	type renewKey struct{ lifetime, before time.Duration }
	renewals := map[renewKey][]entity.ID{}
	for id, m := range marks {
		used = append(used, id)
		if m.renew {
			k := renewKey{m.lifetime, m.before}
			renewals[k] = append(renewals[k], id)
		}
	}
	var errs []error
	for chunk := range chunks(used, usageChunk) {
		res, err := s.db.NewUpdate().Model((*entity.Session)(nil)).
			Set("last_used_at = ?", now).
			Where("id IN (?)", bun.List(chunk)).
			Where("(last_used_at IS NULL OR last_used_at <= ?)", now.Add(-LastUsedInterval)).
			Exec(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("write last use: %w", err))
			continue
		}
		if n, err := res.RowsAffected(); err == nil {
			s.usageStats.lastUsed.Add(n)
		}
	}
	for k, ids := range renewals {
		for chunk := range chunks(ids, usageChunk) {
			if err := s.renewUsed(ctx, chunk, now, k.lifetime, k.before); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// renewUsed extends the rows of ids whose expiry is before now+before to
// now+lifetime, then re-caches them.
func (s *Service) renewUsed(ctx context.Context, ids []entity.ID, now time.Time, lifetime, before time.Duration) error {
	var renewed []entity.ID
	err := s.db.NewUpdate().Model((*entity.Session)(nil)).
		Set("expires = ?", now.Add(lifetime)).Set("updated_at = ?", now).
		Where("id IN (?)", bun.List(ids)).Where("expires < ?", now.Add(before)).
		Returning("id").Scan(ctx, &renewed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("renew sessions: %w", err)
	}
	s.usageStats.renewals.Add(int64(len(renewed)))
	for _, id := range renewed {
		s.recache(ctx, id)
	}
	return nil
}

// chunks yields list in pieces of at most n.
func chunks[T any](list []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(list) > 0 {
			k := min(n, len(list))
			if !yield(list[:k]) {
				return
			}
			list = list[k:]
		}
	}
}

// usageWriteTimeout bounds one round of the UsageWriter.
const usageWriteTimeout = 30 * time.Second

// UsageWriter writes session use in the background: from Start until Stop
// it calls Service.WriteUsage every interval, and once more when stopped
// (so a deploy does not lose the last interval's uses). app.New starts
// it.
type UsageWriter struct {
	startstop.BaseStartStop

	sessions *Service
	interval time.Duration

	// TestSignals are sent only once a test has initialised them.
	TestSignals UsageWriterTestSignals
}

// UsageWriterTestSignals are the events of a UsageWriter a test can wait
// for.
type UsageWriterTestSignals struct {
	// Wrote: a round ended; the value is WriteUsage's error.
	Wrote testsignal.Signal[error]
}

// Init initialises every signal; only tests call it.
func (ts *UsageWriterTestSignals) Init(tb testsignal.TB) { ts.Wrote.Init(tb) }

var _ startstop.Service = (*UsageWriter)(nil)

// NewUsageWriter returns the usage writer of sessions, not started.
// interval defaults to LastUsedInterval.
func NewUsageWriter(sessions *Service, interval time.Duration) *UsageWriter {
	if interval <= 0 {
		interval = LastUsedInterval
	}
	return &UsageWriter{sessions: sessions, interval: interval}
}

// Start starts the loop; its first round is one interval later.
func (w *UsageWriter) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := w.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	go func() {
		defer stopped()
		started()
		startstop.Every(ctx, w.interval, true, w.round) // and on the way out
	}()
	return nil
}

func (w *UsageWriter) round(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, usageWriteTimeout)
	err := w.sessions.WriteUsage(wctx)
	cancel()
	if err != nil {
		w.sessions.log.WarnContext(ctx, "write session use", "err", err)
	}
	w.TestSignals.Wrote.Signal(err)
}
