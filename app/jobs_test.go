package app_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/jobs"
)

// TestCleanSessionsJob: app.New wires River behind
// SessionService.TriggerCleanSessionsJob; the job it enqueues runs on the
// app's workers, removes the expired sessions with the configured default
// batch size, and shows its result through App.Jobs.
func TestCleanSessionsJob(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		clock := testenv.NewClock()
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		cfg.SessionDuration = time.Hour
		cfg.CleanSessionsBatchSize = 2
		cfg.CleanSessionsSchedule = "30 4 * * *"
		cfg.GuestSessions = config.GuestEager // the job removes rows
		a, err := app.New(ctx, cfg, app.Options{DB: db, NowFunc: clock.Now, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, a.Close()) })

		for range 3 {
			_, err := a.Sessions.CreateAnonymousSession(ctx, nil)
			require.NoError(t, err)
		}
		clock.Advance(2 * time.Hour)
		live, err := a.Sessions.CreateAnonymousSession(ctx, nil)
		require.NoError(t, err)

		job, err := a.Sessions.TriggerCleanSessionsJob(ctx, 0)
		require.NoError(t, err)
		require.JSONEq(t, `{"batchSize":2}`, string(job.Data), "CLEAN_SESSIONS_BATCH_SIZE is the default")
		// The bound is a hang guard: how long the job takes is not tested.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			got, err := a.Jobs.Job(ctx, job.ID)
			require.NoError(c, err)
			require.True(c, got.IsSettled(), "job %d still %s", got.ID, got.State)
			job = got
		}, 30*time.Second, 20*time.Millisecond, "the job settles")
		require.Equal(t, jobs.StateCompleted, job.State)
		require.JSONEq(t, `{"batchSize":2,"sessionsRemoved":3}`, string(job.Result))

		var left []entity.ID
		require.NoError(t, db.NewSelect().Model((*entity.Session)(nil)).Column("id").Scan(ctx, &left))
		require.Equal(t, []entity.ID{live.ID}, left, "only the live session is left")

		tasks, err := a.Jobs.ScheduledTasks(ctx)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		require.Equal(t, "30 4 * * *", tasks[0].Schedule)
		require.Equal(t, time.Date(2026, 1, 2, 5, 4, 5, 0, time.UTC), clock.Now())
		require.Equal(t, time.Date(2026, 1, 3, 4, 30, 0, 0, time.UTC), *tasks[0].NextExecutionAt)
		require.JSONEq(t, string(job.Result), string(tasks[0].LastResult))
	})
}
