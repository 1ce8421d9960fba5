package session

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/internal/testsignal"
	"github.com/shopsession/sessionserver/sessioncache"
)

// An eviction lost while the cache was down is applied by the background
// loop, without any call to SyncCache: its first round does it.
func TestCacheSyncerAppliesLostEvictions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, f := newFlakySessions(t)
	userID := newUser(t, s)
	cs, err := s.CreateNewAuthenticatedSession(ctx, NewAuthenticatedSession{UserID: userID, AuthenticationStrategy: entity.AuthMethodNative})
	require.NoError(t, err)
	key := HashToken(cs.Token)
	f.setDown(true)
	require.NoError(t, s.DeleteSessionsByUser(ctx, userID))
	f.setDown(false)
	require.EqualValues(t, 1, pendingOutbox(t, s))

	syncer := NewCacheSyncer(s, time.Millisecond)
	syncer.TestSignals.Init(t)
	require.NoError(t, syncer.Start(ctx))
	t.Cleanup(syncer.Stop)
	require.NoError(t, syncer.TestSignals.Synced.WaitOrTimeout())
	_, _, deleted := f.stats()
	require.Contains(t, deleted, key)
	require.Zero(t, pendingOutbox(t, s))
	require.Nil(t, s.cache.get(ctx, key))

	// Rounds keep coming while it runs.
	syncer.TestSignals.Synced.Discard()
	require.NoError(t, syncer.TestSignals.Synced.WaitOrTimeout())
}

func pendingOutbox(t *testing.T, s *Service) int {
	t.Helper()
	n, err := s.db.NewSelect().Model((*entity.SessionCacheOutbox)(nil)).Where("applied_at IS NULL").Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// stallingCache is a flakyCache whose Probe waits until its context ends:
// a shared cache that does not answer.
type stallingCache struct {
	*flakyCache
	entered  testsignal.Signal[struct{}]
	returned atomic.Bool
}

func (c *stallingCache) Probe(ctx context.Context) (string, error) {
	c.entered.Signal(struct{}{})
	<-ctx.Done()
	c.returned.Store(true)
	return "", ctx.Err()
}

// Stop ends the round in progress (its context is cancelled) and returns
// only once that round has returned.
func TestCacheSyncerStopEndsTheRoundInProgress(t *testing.T) {
	t.Parallel()
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100})
	require.NoError(t, err)
	cache := &stallingCache{flakyCache: &flakyCache{next: mem, identity: "master-1"}}
	cache.entered.Init(t)
	s, err := New(Config{
		DB: testenv.SQLiteDB(t), Cache: cache, NowFunc: testenv.NewClock().Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	require.NotNil(t, s.prober, "a probe-able cache is treated as shared")

	syncer := NewCacheSyncer(s, time.Millisecond)
	require.NoError(t, syncer.Start(context.Background()))
	cache.entered.WaitOrTimeout()
	syncer.Stop()
	require.True(t, cache.returned.Load(), "Stop returned before the round did")
	select {
	case <-syncer.Stopped():
	default:
		t.Fatal("Stopped is open after Stop")
	}
}
