package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Two instances' syncs (or a sync and the clean-up) stamp overlapping sets
// of outbox rows applied; waiting for each other's row locks in different
// orders deadlocked (40P01). A sync must skip a row another transaction
// holds instead of waiting for it, and stamp it on a later sync. Here a
// transaction holds one pending row's lock while a sync runs: before, the
// sync waited until its deadline and failed.
func TestSyncSkipsOutboxRowsAnotherInstanceHolds(t *testing.T) {
	opts := bundleOpts{NewCache: revocationCaches(t)["redis"]}
	eachDB(t, opts, func(t *testing.T, b *testBundle) {
		if b.db.Dialect().Name() != dialect.PG {
			t.Skip("SQLite has one writer: no other instance can hold a row")
		}
		_, ok := b.cache.Next().(sessioncache.Prober)
		require.True(t, ok, "the outbox is used with a shared cache")

		held, free := "held-"+randomToken(t), "free-"+randomToken(t)
		rows := []entity.SessionCacheOutbox{
			{TokenHash: &held, CreatedAt: b.clock.Now().UTC()},
			{TokenHash: &free, CreatedAt: b.clock.Now().UTC()},
		}
		_, err := b.db.NewInsert().Model(&rows).Exec(b.ctx)
		require.NoError(t, err)

		tx, err := b.db.BeginTx(b.ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		_, err = tx.NewRaw("SELECT id FROM session_cache_outbox WHERE id = ? FOR UPDATE", rows[0].ID).Exec(b.ctx)
		require.NoError(t, err)

		// Bounded so that the old behaviour (waiting for the lock) fails
		// the test instead of hanging it.
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, b.sessions.SyncCache(ctx))
		require.Nil(t, outboxRow(t, b, rows[0].ID).AppliedAt, "the held row is left for later")
		require.NotNil(t, outboxRow(t, b, rows[1].ID).AppliedAt, "the free row is stamped")

		require.NoError(t, tx.Rollback())
		require.NoError(t, b.sessions.SyncCache(ctx))
		require.NotNil(t, outboxRow(t, b, rows[0].ID).AppliedAt, "stamped once released")
	})
}

func outboxRow(t *testing.T, b *testBundle, id entity.ID) *entity.SessionCacheOutbox {
	t.Helper()
	r := new(entity.SessionCacheOutbox)
	require.NoError(t, b.db.NewSelect().Model(r).Where("id = ?", id).Scan(b.ctx))
	return r
}
