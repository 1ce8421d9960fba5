package session

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// flakyCache is a memory cache posing as a shared one (it can be probed),
// that can be taken down and can "fail over", counting the calls that reach
// it.
type flakyCache struct {
	mu       sync.Mutex
	down     bool
	identity string
	calls    int
	clears   int
	badClear int // how many of the next Clears fail while the rest answers
	deleted  []string
	next     *sessioncache.Memory
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

func (f *flakyCache) Generation() sessioncache.Generation { return f.next.Generation() }

func (f *flakyCache) Set(ctx context.Context, k string, s *sessioncache.CachedSession, gen sessioncache.Generation) error {
	if err := f.enter(); err != nil {
		return err
	}
	return f.next.Set(ctx, k, s, gen)
}

func (f *flakyCache) Get(ctx context.Context, k string) (*sessioncache.CachedSession, error) {
	if err := f.enter(); err != nil {
		return nil, err
	}
	return f.next.Get(ctx, k)
}

func (f *flakyCache) Delete(ctx context.Context, keys ...string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	f.deleted = append(f.deleted, keys...)
	f.mu.Unlock()
	return f.next.Delete(ctx, keys...)
}

func (f *flakyCache) Clear(ctx context.Context) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	if f.badClear > 0 {
		f.badClear--
		f.mu.Unlock()
		return errors.New("i/o timeout")
	}
	f.clears++
	f.mu.Unlock()
	return f.next.Clear(ctx)
}

func (f *flakyCache) Probe(context.Context) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identity, nil
}

func (f *flakyCache) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// failover changes the identity Probe answers and loses the tombstones and
// the entries written since snapshot (acknowledged writes a master switch
// loses), by restoring the snapshot.
func (f *flakyCache) failover(snapshot *sessioncache.Memory) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identity += "'"
	f.next = snapshot
}

func (f *flakyCache) stats() (calls, clears int, deleted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.clears, append([]string(nil), f.deleted...)
}

func newFlakySessions(t *testing.T) (*Service, *flakyCache) {
	t.Helper()
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	f := &flakyCache{next: mem, identity: "master-1"}
	clock := testenv.NewClock()
	s, err := New(Config{
		DB: testenv.SQLiteDB(t), Cache: f, NowFunc: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	require.NotNil(t, s.prober, "a probe-able cache is treated as shared")
	require.NoError(t, s.SyncCache(context.Background()))
	return s, f
}

// newUser inserts a user and returns its id.
func newUser(t *testing.T, s *Service) entity.ID {
	t.Helper()
	u := &entity.User{CreatedAt: s.nowUTC(), UpdatedAt: s.nowUTC(), Identifier: "u@example.com", Verified: true}
	_, err := s.db.NewInsert().Model(u).Exec(context.Background())
	require.NoError(t, err)
	return u.ID
}

// Once the cache fails (here every read, until the breaker opens), no
// request calls it, whatever the time, until a background sync finds it
// answering: no request waits on a probe.
func TestCacheGuardSkipsWhileDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := newFlakySessions(t)
	g := s.cache
	g.set(ctx, "a", &sessioncache.CachedSession{ID: 1}, g.generation())
	f.setDown(true)
	for range cacheBreakerMinFailures {
		require.Nil(t, g.get(ctx, "a"))
	}
	require.False(t, g.healthy())
	before, _, _ := f.stats()
	f.setDown(false)
	for range 100 {
		g.set(ctx, "a", &sessioncache.CachedSession{ID: 1}, g.generation())
		require.Nil(t, g.get(ctx, "a"))
		require.False(t, g.delete(ctx, "a"))
	}
	after, _, _ := f.stats()
	require.Equal(t, before, after, "no call reaches a cache that is down")

	require.NoError(t, s.SyncCache(ctx))
	require.NotNil(t, g.get(ctx, "a"), "trusted again after the sync")
}

// A logout while the cache is down cannot evict the cached session; the
// eviction waits in the outbox, and the sync applies it BEFORE the cache is
// read again (finding 11: the guard must not trust the cache before it is
// clean).
func TestLostEvictionIsAppliedBeforeReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := newFlakySessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	key := HashToken(cs.Token)
	require.NotNil(t, s.cache.get(ctx, key))

	f.setDown(true)
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	f.setDown(false)
	var pending int64
	pending, err = s.db.NewSelect().Model((*entity.SessionCacheOutbox)(nil)).Where("applied_at IS NULL").Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, pending, "the eviction is recorded with the delete")
	stale, _ := f.next.Get(ctx, key)
	require.NotNil(t, stale, "the entry is still in the shared cache")
	require.Nil(t, s.cache.get(ctx, key), "not read while down")

	require.NoError(t, s.SyncCache(ctx))
	_, _, deleted := f.stats()
	require.Contains(t, deleted, key)
	require.Nil(t, s.cache.get(ctx, key))
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)
	pending, err = s.db.NewSelect().Model((*entity.SessionCacheOutbox)(nil)).Where("applied_at IS NULL").Count(ctx)
	require.NoError(t, err)
	require.Zero(t, pending)
}

// A master switch may lose acknowledged evictions: the sync that sees the
// new master clears the cache and applies the recent evictions again.
func TestMasterSwitchReplaysRecentEvictions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := newFlakySessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	key := HashToken(cs.Token)

	// The replica, promoted later, has the entry but not what follows.
	replica, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	entry, _ := f.next.Get(ctx, key)
	require.NoError(t, replica.Set(ctx, key, entry, replica.Generation()))

	require.NoError(t, s.DeleteSessionsByUser(ctx, userID)) // applied, then lost
	f.failover(replica)
	require.NotNil(t, s.cache.get(ctx, key), "before the sync notices, the lost eviction shows")

	_, clearsBefore, _ := f.stats()
	require.NoError(t, s.SyncCache(ctx))
	_, clears, deleted := f.stats()
	require.Equal(t, clearsBefore+1, clears, "the cache is cleared on a switch")
	require.Contains(t, deleted, key)
	require.Nil(t, s.cache.get(ctx, key))
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)
}

// A replay cut short (here its clear fails while the probe answers) is run
// again by the next sync: the new master counts as known only once the
// evictions the switch lost are applied to it again.
func TestInterruptedReplayRunsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := newFlakySessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	key := HashToken(cs.Token)
	replica, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	entry, _ := f.next.Get(ctx, key)
	require.NoError(t, replica.Set(ctx, key, entry, replica.Generation()))
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID)) // applied, then lost
	f.failover(replica)

	f.mu.Lock()
	f.badClear = 1
	f.mu.Unlock()
	require.Error(t, s.SyncCache(ctx), "the replay failed")
	require.Nil(t, s.cache.get(ctx, key), "nothing is read after a failed replay")
	_, _, before := f.stats()

	require.NoError(t, s.SyncCache(ctx))
	_, _, deleted := f.stats()
	require.Contains(t, deleted[len(before):], key, "the lost eviction is applied again")
	require.Nil(t, s.cache.get(ctx, key))
	_, err = s.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound)
}

// An instance whose client is still on the old master after a failover
// applies other instances' pending evictions there, where the switch loses
// them, and stamps them applied: until its own client moves, another
// instance answers such a token from the new master. The sync that sees
// the move applies them again.
func TestLateInstanceReplaysWhatTheOldMasterLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.SQLiteDB(t)
	oldMaster, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	onA, onB := &flakyCache{next: oldMaster, identity: "old"}, &flakyCache{next: oldMaster, identity: "old"}
	instance := func(f *flakyCache) *Service {
		s, err := New(Config{DB: db, Cache: f, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, s.SyncCache(ctx))
		return s
	}
	a, b := instance(onA), instance(onB)
	userID := newUser(t, a)
	cs, err := a.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)

	newMaster, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	onA.failover(newMaster) // A's client moves at once
	require.NoError(t, a.SyncCache(ctx))
	_, err = a.GetSessionFromToken(ctx, cs.Token) // cached on the new master
	require.NoError(t, err)
	onA.setDown(true)
	require.NoError(t, a.DeleteSessionsByUser(ctx, userID)) // the eviction waits in the outbox
	onA.setDown(false)
	require.NoError(t, b.SyncCache(ctx)) // B applies it to the old master
	require.NoError(t, a.SyncCache(ctx))
	stale, _ := newMaster.Get(ctx, HashToken(cs.Token))
	require.NotNil(t, stale, "the premise: the eviction reached the old master only")

	onB.failover(newMaster)
	require.NoError(t, b.SyncCache(ctx))
	_, err = a.GetSessionFromToken(ctx, cs.Token)
	require.ErrorIs(t, err, outcome.ErrNotFound, "B's replay applied the eviction again")
}

// Applied rows are kept for the replay window, then removed.
func TestOutboxRowsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newFlakySessions(t)
	clock := testenv.NewClock()
	s.now = clock.Now
	s.ClearCache(ctx)
	count := func() int {
		n, err := s.db.NewSelect().Model((*entity.SessionCacheOutbox)(nil)).Count(ctx)
		require.NoError(t, err)
		return int(n)
	}
	require.Equal(t, 1, count())
	require.NoError(t, s.SyncCache(ctx))
	require.Equal(t, 1, count(), "kept for the replay window")
	clock.Advance(cacheReplayWindow + time.Second)
	require.NoError(t, s.SyncCache(ctx))
	require.Zero(t, count())
}
