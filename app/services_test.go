package app_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/jobs"
)

// TestBackgroundServicesRunUntilClose: New starts the cache sync and the
// job runner, which outlive New's context, and Close stops both and
// returns once they have stopped.
func TestBackgroundServicesRunUntilClose(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		ctx, cancel := context.WithCancel(t.Context())
		a, err := app.New(ctx, cfg, app.Options{DB: db, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		closed := false
		t.Cleanup(func() {
			if !closed {
				require.NoError(t, a.Close())
			}
		})
		cancel() // the start-up's context; the services run until Close
		a.CacheSync.TestSignals.Init(t)
		a.Jobs.TestSignals.Init(t)

		require.NoError(t, a.CacheSync.TestSignals.Synced.WaitOrTimeout(), "a round of the sync loop")
		<-a.Jobs.Started()
		queues, err := a.Jobs.Queues(t.Context())
		require.NoError(t, err)
		require.Equal(t, []jobs.Queue{{Name: jobs.CleanSessionsQueue, Running: true}, {Name: jobs.NotifyQueue, Running: true}}, queues)

		require.NoError(t, a.Close())
		closed = true
		for name, stopped := range map[string]<-chan struct{}{"cache sync": a.CacheSync.Stopped(), "jobs": a.Jobs.Stopped()} {
			select {
			case <-stopped:
			default:
				t.Fatalf("%s still running after Close", name)
			}
		}
		require.NoError(t, a.Jobs.TestSignals.RiverStopped.WaitOrTimeout(), "River stopped cleanly")
		queues, err = a.Jobs.Queues(t.Context())
		require.NoError(t, err)
		require.Equal(t, []jobs.Queue{{Name: jobs.CleanSessionsQueue, Running: false}, {Name: jobs.NotifyQueue, Running: false}}, queues)
		require.NoError(t, a.Close(), "a second Close does nothing")
	})
}
