package service_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

var _ jobs.Cleaner = (*session.Service)(nil)

// cleanupFixture is a set of sessions, half due for clean-up, half not,
// each with a fresh cache entry, so that a token the clean-up does not
// evict would still be answered from the cache.
type cleanupFixture struct {
	removed, kept map[string]string // name -> token
}

func newCleanupFixture(t *testing.T, b *testBundle) cleanupFixture {
	t.Helper()
	now := b.clock.Now()
	uid := b.superadminUserID
	native := account.NativeStrategyName
	order := entity.ID(77)
	idle := session.DefaultAnonymousIdleTimeout
	cartIdle := session.DefaultAnonymousCartIdleTimeout
	f := cleanupFixture{removed: map[string]string{}, kept: map[string]string{}}
	for name, row := range map[string]entity.Session{
		"expiredGuest":          {Expires: now.Add(-time.Second)},
		"expiredGuestWithOrder": {Expires: now.Add(-time.Second), ActiveOrderID: &order},
		"expiredAuthenticated": {
			Type: entity.SessionAuthenticated, UserID: &uid, AuthenticationStrategy: &native,
			Expires: now.Add(-time.Minute),
		},
		"idleGuest": {UpdatedAt: now.Add(-idle - time.Second), Expires: now.Add(20 * day)},
		"idleGuestCart": {
			UpdatedAt: now.Add(-cartIdle - time.Second), Expires: now.Add(oneYear - cartIdle), ActiveOrderID: &order,
		},
	} {
		f.removed[name] = b.insertSession(t, row)
	}
	for name, row := range map[string]entity.Session{
		"idleGuestWithOrder": {UpdatedAt: now.Add(-8 * day), Expires: now.Add(oneYear), ActiveOrderID: &order},
		"recentGuest":        {UpdatedAt: now.Add(-6 * day), Expires: now.Add(24 * day)},
		"guestIdleExactly":   {UpdatedAt: now.Add(-idle), Expires: now.Add(23 * day)},
		"guestCartIdleExactly": {
			UpdatedAt: now.Add(-cartIdle), Expires: now.Add(oneYear - cartIdle), ActiveOrderID: &order,
		},
		"idleAuthenticated": {
			Type: entity.SessionAuthenticated, UserID: &uid, AuthenticationStrategy: &native,
			UpdatedAt: now.Add(-30 * day), Expires: now.Add(300 * day),
		},
	} {
		f.kept[name] = b.insertSession(t, row)
	}
	f.kept["newGuest"] = b.anonymous(t).Token
	f.kept["loggedIn"] = b.login(t, auth.AdminAPI, superadminLogin, superadminPassword).Token

	// A fresh cache entry for each, valid for an hour: the removed ones
	// must stop working because the clean-up evicts them, not because the
	// entry is stale or says the session has expired.
	gen := b.cache.Generation()
	for _, tokens := range []map[string]string{f.removed, f.kept} {
		for _, tok := range tokens {
			require.NoError(t, b.cache.Next().Set(b.ctx, session.HashToken(tok), &sessioncache.CachedSession{
				CacheExpiry: unixSeconds(now.Add(time.Hour)), Expires: now.Add(time.Hour),
			}, gen))
		}
	}
	return f
}

func TestCleanExpiredSessionsEvictsAndSpares(t *testing.T) {
	t.Parallel()
	eachDBAndRecordedCache(t, func(t *testing.T, b *testBundle, _ *evictionRecorder) {
		f := newCleanupFixture(t, b)
		for _, tok := range f.removed {
			_, err := b.sessions.GetSessionFromToken(b.ctx, tok)
			require.NoError(t, err, "the fixture's cache entry answers")
		}
		b.cache.Reset()

		n, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
		require.NoError(t, err)
		require.Equal(t, len(f.removed), n)

		var wantKeys []string
		for name, tok := range f.removed {
			require.Nil(t, b.sessionRow(t, tok), name)
			_, err := b.sessions.GetSessionFromToken(b.ctx, tok)
			require.ErrorIs(t, err, outcome.ErrNotFound, name)
			wantKeys = append(wantKeys, session.HashToken(tok))
		}
		require.ElementsMatch(t, wantKeys, b.cache.DeleteKeys(), "exactly the removed keys are evicted")
		for name, tok := range f.kept {
			require.NotNil(t, b.sessionRow(t, tok), name)
			_, err := b.sessions.GetSessionFromToken(b.ctx, tok)
			require.NoError(t, err, name)
		}

		n, err = b.sessions.CleanExpiredSessions(b.ctx, 1000)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to clean")
	})
}

// The shape of the work: per batch one DELETE statement on session and one
// cache eviction per 1,000 of its keys, after commit; with a shared cache
// the outbox records every key and is marked applied.
func TestCleanExpiredSessionsBatches(t *testing.T) {
	t.Parallel()
	const victims = 5000 // 2500 expired, 2500 idle guests
	chunked := []int{1000, 1000, 500, 1000, 1000, 500}
	for _, tc := range []struct {
		batch      int
		evictions  []int
		statements int
	}{
		// The last statement is the idle-cart pass's, which finds nothing.
		{batch: 1000, evictions: chunked, statements: 7},
		{batch: 2500, evictions: chunked, statements: 5}, // a full batch, then an empty one
		{batch: 5000, evictions: chunked, statements: 3},
	} {
		t.Run(strconv.Itoa(tc.batch), func(t *testing.T) {
			t.Parallel()
			eachDBAndRecordedCache(t, func(t *testing.T, b *testBundle, rec *evictionRecorder) {
				now := b.clock.Now()
				rows := make([]entity.Session, victims)
				for i := range rows {
					rows[i].Expires = now.Add(-time.Duration(i+1) * time.Second)
					if i%2 == 1 { // an idle guest rather than an expired session
						rows[i].Expires = now.Add(20 * day)
						rows[i].UpdatedAt = now.Add(-8*day - time.Duration(i)*time.Second)
					}
					fillSession(&rows[i], randomToken(t), now)
				}
				_, err := b.db.NewInsert().Model(&rows).Exec(b.ctx)
				require.NoError(t, err)
				kept := b.anonymous(t).Token

				counter := &statementCounter{match: "DELETE FROM session"}
				sessions := cleanerOn(t, b, b.db.WithQueryHook(counter))

				removed, done, err := sessions.CleanExpiredSessionsUntil(b.ctx, tc.batch, time.Time{})
				require.NoError(t, err)
				require.True(t, done)
				require.Equal(t, victims, removed)
				require.Equal(t, 1, b.countSessions(t))
				require.NotNil(t, b.sessionRow(t, kept))

				require.Equal(t, tc.evictions, rec.calls(), "one eviction call per 1,000 keys of a batch")
				require.Equal(t, tc.statements, counter.count(), "one statement per batch")

				if _, shared := b.cache.Next().(sessioncache.Prober); shared {
					var pending, total int64
					total, err = b.db.NewSelect().Table("session_cache_outbox").Count(b.ctx)
					require.NoError(t, err)
					pending, err = b.db.NewSelect().Table("session_cache_outbox").Where("applied_at IS NULL").Count(b.ctx)
					require.NoError(t, err)
					require.EqualValues(t, victims, total)
					require.Zero(t, pending)
				}
			})
		})
	}
}

func TestCleanExpiredSessionsUntilDeadline(t *testing.T) {
	t.Parallel()
	const batch = 100
	seed := func(t *testing.T, b *testBundle, n int) {
		t.Helper()
		now := b.clock.Now()
		rows := make([]entity.Session, n)
		for i := range rows {
			rows[i].Expires = now.Add(-time.Duration(i+1) * time.Second)
			fillSession(&rows[i], randomToken(t), now)
		}
		_, err := b.db.NewInsert().Model(&rows).Exec(b.ctx)
		require.NoError(t, err)
	}

	t.Run("PassedDeadlineStillRunsOneBatch", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			seed(t, b, 250)
			removed, done, err := b.sessions.CleanExpiredSessionsUntil(b.ctx, batch, b.clock.Now().Add(-time.Minute))
			require.NoError(t, err)
			require.False(t, done)
			require.Equal(t, batch, removed)
			require.Equal(t, 150, b.countSessions(t))

			// The follow-up run finishes.
			removed, done, err = b.sessions.CleanExpiredSessionsUntil(b.ctx, batch, b.clock.Now().Add(time.Hour))
			require.NoError(t, err)
			require.True(t, done)
			require.Equal(t, 150, removed)
			require.Zero(t, b.countSessions(t))
		})
	})

	t.Run("StopsWhenDeadlinePasses", func(t *testing.T) {
		opts := bundleOpts{NewCache: func(t *testing.T) sessioncache.Strategy {
			return recordEvictions(newMemory(t))
		}}
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			seed(t, b, 1000)
			deadline := b.clock.Now().Add(time.Minute)
			// Each batch takes 25 s of the fake clock: after the third,
			// 75 s have passed.
			rec := b.cache.Next().(*evictionRecorder)
			rec.onDelete = func() { b.clock.Advance(25 * time.Second) }
			removed, done, err := b.sessions.CleanExpiredSessionsUntil(b.ctx, batch, deadline)
			require.NoError(t, err)
			require.False(t, done)
			require.Equal(t, 3*batch, removed)
			require.Equal(t, 700, b.countSessions(t))
		})
	})

	t.Run("DoneWhenNothingIsDue", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			b.anonymous(t)
			removed, done, err := b.sessions.CleanExpiredSessionsUntil(b.ctx, batch, b.clock.Now().Add(time.Minute))
			require.NoError(t, err)
			require.True(t, done)
			require.Zero(t, removed)
			require.Equal(t, 1, b.countSessions(t))

			// A deadline that has passed lets the first pass run its
			// batch, but not the second: not done, for a follow-up.
			removed, done, err = b.sessions.CleanExpiredSessionsUntil(b.ctx, batch, b.clock.Now().Add(-time.Minute))
			require.NoError(t, err)
			require.False(t, done)
			require.Zero(t, removed)
		})
	})

	t.Run("RejectsBadBatchSize", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			_, done, err := b.sessions.CleanExpiredSessionsUntil(b.ctx, 0, time.Time{})
			require.Error(t, err)
			require.False(t, done)
		})
	})
}

// eachDBAndRecordedCache is eachDBAndCache with an evictionRecorder
// between the bundle's spy and the cache.
func eachDBAndRecordedCache(t *testing.T, f func(t *testing.T, b *testBundle, rec *evictionRecorder)) {
	for name, newCache := range revocationCaches(t) {
		t.Run(name, func(t *testing.T) {
			opts := bundleOpts{NewCache: func(t *testing.T) sessioncache.Strategy {
				next := newCache(t)
				rec := recordEvictions(next)
				if p, ok := next.(sessioncache.Prober); ok {
					return probingRecorder{rec, p}
				}
				return rec
			}}
			eachDB(t, opts, func(t *testing.T, b *testBundle) {
				var rec *evictionRecorder
				switch c := b.cache.Next().(type) {
				case *evictionRecorder:
					rec = c
				case probingRecorder:
					rec = c.evictionRecorder
				}
				f(t, b, rec)
			})
		})
	}
}

func newMemory(t *testing.T) *sessioncache.Memory {
	t.Helper()
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10000})
	require.NoError(t, err)
	return m
}

// cleanerOn is the bundle's SessionService on another handle of its
// database (one with a query hook).
func cleanerOn(t *testing.T, b *testBundle, db *bun.DB) *session.Service {
	t.Helper()
	prober, _ := b.cache.Next().(sessioncache.Prober)
	s, err := session.New(session.Config{
		DB: db, Cache: b.cache, Prober: prober, Logger: discardLog, NowFunc: b.clock.Now,
	})
	require.NoError(t, err)
	return s
}

// evictionRecorder is a cache strategy that records the size of each
// Delete call (the Spy counts keys, not calls) and may run a hook first.
type evictionRecorder struct {
	sessioncache.Strategy
	onDelete func() // set before use; runs before each Delete

	mu    sync.Mutex
	sizes []int
}

func recordEvictions(next sessioncache.Strategy) *evictionRecorder {
	return &evictionRecorder{Strategy: next}
}

func (r *evictionRecorder) Delete(ctx context.Context, keys ...string) error {
	r.mu.Lock()
	r.sizes = append(r.sizes, len(keys))
	r.mu.Unlock()
	if r.onDelete != nil {
		r.onDelete()
	}
	return r.Strategy.Delete(ctx, keys...)
}

func (r *evictionRecorder) calls() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.sizes...)
}

// probingRecorder is an evictionRecorder in front of a shared cache: it
// passes Probe on, so the service treats the cache as shared (outbox).
type probingRecorder struct {
	*evictionRecorder
	prober sessioncache.Prober
}

func (p probingRecorder) Probe(ctx context.Context) (string, error) { return p.prober.Probe(ctx) }

// statementCounter is a bun query hook that counts the statements whose
// text contains match.
type statementCounter struct {
	match string
	mu    sync.Mutex
	n     int
}

func (c *statementCounter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.Contains(e.Query, c.match) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return ctx
}

func (c *statementCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

func (c *statementCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
