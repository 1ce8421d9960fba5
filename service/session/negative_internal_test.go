package session

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite"

	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The negative cache forgets a key once its time is up, and holds at most
// its size: the oldest key goes first.
func TestNegativeCacheBounds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	n := newNegativeCache(2, 30*time.Second)
	n.add("a", now)
	require.True(t, n.has("a", now.Add(29*time.Second)))
	require.False(t, n.has("a", now.Add(30*time.Second)), "forgotten after its ttl")
	n.add("b", now)
	n.add("c", now)
	require.False(t, n.has("a", now), "the oldest goes beyond the size")
	require.True(t, n.has("b", now))
	require.True(t, n.has("c", now))
	require.Equal(t, 2, n.len())
	n.add("c", now.Add(time.Minute)) // remembered again, not twice
	require.Equal(t, 2, n.len())
	require.True(t, n.has("c", now.Add(time.Minute+29*time.Second)))

	require.Nil(t, newNegativeCache(0, time.Second), "size 0 is off")
	var off *negativeCache
	off.add("a", now)
	require.False(t, off.has("a", now))
}

// Twenty lookups of one token the cache does not hold, at once, send one
// read to the database; all get its answer, and the token, unknown, is
// then answered without a read.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	t.Parallel()
	sqldb, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqldb.Close() })
	db := bun.NewDB(sqldb, sqlitedialect.New())
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{DB: db, Cache: sessioncache.Noop{}, NegativeCacheSize: 10})
		require.NoError(t, err)
		var reads atomic.Int64
		release := make(chan struct{})
		s.findByTokenHash = func(context.Context, string) (*sessioncache.CachedSession, error) {
			reads.Add(1)
			<-release
			return nil, outcome.ErrNotFound
		}
		const lookups = 20
		errs := make(chan error, lookups)
		var wg sync.WaitGroup
		for range lookups {
			wg.Go(func() {
				_, err := s.GetSessionFromToken(context.Background(), "a-token-no-session-has")
				errs <- err
			})
		}
		synctest.Wait() // every lookup waits: one on the read, the others on it
		require.Equal(t, int64(1), reads.Load())
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.ErrorIs(t, err, outcome.ErrNotFound)
		}
		_, err = s.GetSessionFromToken(context.Background(), "a-token-no-session-has")
		require.ErrorIs(t, err, outcome.ErrNotFound)
		require.Equal(t, int64(1), reads.Load(), "remembered as unknown")
		require.Equal(t, LookupStats{NegativeHits: 1, DatabaseReads: 1}, s.LookupStats())
	})
}
