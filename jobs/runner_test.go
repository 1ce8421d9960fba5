package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/listquery"
)

// fakeCleaner answers CleanExpiredSessionsUntil with the next of its
// scripted answers (the last one repeats) and records each call.
type fakeCleaner struct {
	mu      sync.Mutex
	answers []answer
	calls   []call
	// block, when set, makes each call wait for it to close or for ctx.
	block chan struct{}
	// entered receives once per call, when set.
	entered chan struct{}
}

type answer struct {
	removed int
	done    bool
	err     error
}

type call struct {
	batchSize int
	deadline  time.Time
}

func (f *fakeCleaner) CleanExpiredSessionsUntil(ctx context.Context, batchSize int, deadline time.Time) (int, bool, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{batchSize, deadline})
	a := f.answers[0]
	if len(f.answers) > 1 {
		f.answers = f.answers[1:]
	}
	block, entered := f.block, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
	return a.removed, a.done, a.err
}

func (f *fakeCleaner) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// newRunner returns a Runner on db, not started.
func newRunner(t *testing.T, db *bun.DB, cleaner Cleaner, configure ...func(*Config)) *Runner {
	t.Helper()
	cfg := Config{
		DB: db, Cleaner: cleaner, Schedule: ScheduleOff, NowFunc: testenv.NewClock().Now,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, f := range configure {
		f(&cfg)
	}
	r, err := New(cfg)
	require.NoError(t, err)
	return r
}

// start starts r, its test signals initialised, and stops it (stop)
// when the test ends unless the test did.
func start(t *testing.T, r *Runner) {
	t.Helper()
	r.TestSignals.Init(t)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		select {
		case <-r.Stopped(): // by the test, with stop
		default:
			stop(t, r)
		}
	})
}

// stop stops r, started with its test signals initialised, and requires
// that River stopped without error.
func stop(t *testing.T, r *Runner) {
	t.Helper()
	r.Stop()
	require.NoError(t, r.TestSignals.RiverStopped.WaitOrTimeout())
}

// waitGuard bounds a wait for River: it only fails a broken test, and
// asserts nothing about how long River takes.
const waitGuard = 30 * time.Second

// waitFor waits until check passes, running it again while it fails.
func waitFor(t *testing.T, what string, check func(c *assert.CollectT)) {
	t.Helper()
	require.EventuallyWithT(t, check, waitGuard, 20*time.Millisecond, "waiting for %s", what)
}

// waitState waits until the job is in one of states and returns it.
func waitState(t *testing.T, r *Runner, id int64, states ...State) *Job {
	t.Helper()
	var job *Job
	waitFor(t, fmt.Sprintf("job %d to be %v", id, states), func(c *assert.CollectT) {
		j, err := r.Job(context.Background(), entityID(id))
		require.NoError(c, err)
		require.Contains(c, states, j.State)
		job = j
	})
	return job
}

func TestEnqueueRunsToCompletion(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		clock := testenv.NewClock()
		cleaner := &fakeCleaner{answers: []answer{{removed: 42, done: true}}}
		r := newRunner(t, db, cleaner, func(c *Config) {
			c.NowFunc = clock.Now
			c.TimeBudget = 90 * time.Second
		})
		start(t, r)

		job, err := r.EnqueueCleanSessions(t.Context(), 500)
		require.NoError(t, err)
		require.Equal(t, CleanSessionsQueue, job.QueueName)
		require.Equal(t, StatePending, job.State)
		require.JSONEq(t, `{"batchSize":500}`, string(job.Data))
		require.Nil(t, job.Result)
		require.Equal(t, DefaultMaxAttempts-1, job.Retries)

		done := waitState(t, r, int64(job.ID), StateCompleted)
		require.JSONEq(t, `{"batchSize":500,"sessionsRemoved":42}`, string(done.Result))
		require.Equal(t, float64(100), done.Progress)
		require.Equal(t, 1, done.Attempts)
		require.Nil(t, done.Error)
		require.NotNil(t, done.StartedAt)
		require.NotNil(t, done.SettledAt)
		require.True(t, done.IsSettled())
		require.Equal(t, []call{{500, clock.Now().Add(90 * time.Second)}}, cleaner.Calls(),
			"the deadline is the application's clock plus the budget")

		_, err = r.Job(t.Context(), 999999)
		require.ErrorIs(t, err, ErrNotFound)
		_, err = r.EnqueueCleanSessions(t.Context(), 0)
		require.Error(t, err)
	})
}

func TestBudgetSpentEnqueuesFollowUp(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		cleaner := &fakeCleaner{answers: []answer{{removed: 1000}, {removed: 7, done: true}}}
		r := newRunner(t, db, cleaner)
		start(t, r)

		first, err := r.EnqueueCleanSessions(t.Context(), 250)
		require.NoError(t, err)
		done := waitState(t, r, int64(first.ID), StateCompleted)
		require.JSONEq(t, `{"batchSize":250,"sessionsRemoved":1000}`, string(done.Result))

		var list *List
		waitFor(t, "the follow-up job to complete", func(c *assert.CollectT) {
			l, err := r.Jobs(context.Background(), listquery.Options{})
			require.NoError(c, err)
			require.Equal(c, 2, l.TotalItems)
			require.Equal(c, StateCompleted, l.Items[0].State)
			list = l
		})
		followUp := list.Items[0]
		require.Greater(t, followUp.ID, first.ID)
		require.JSONEq(t, `{"batchSize":250}`, string(followUp.Data), "same arguments")
		require.JSONEq(t, `{"batchSize":250,"sessionsRemoved":7}`, string(followUp.Result))
		require.Len(t, cleaner.Calls(), 2, "done: no third job")
	})
}

func TestFailingCleanerRetriesThenFails(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		cleaner := &fakeCleaner{answers: []answer{{removed: 3, err: errors.New("database on fire")}}}
		r := newRunner(t, db, cleaner, func(c *Config) { c.MaxAttempts = 2 })
		start(t, r)

		job, err := r.EnqueueCleanSessions(t.Context(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, job.Retries)
		retrying := waitState(t, r, int64(job.ID), StateRetrying)
		require.Equal(t, 1, retrying.Attempts)
		var msg string
		require.NoError(t, json.Unmarshal(retrying.Error, &msg))
		require.Contains(t, msg, "database on fire")
		require.Contains(t, msg, "3 removed before the error")
		require.False(t, retrying.IsSettled())

		// The retry is a minute away (DefaultRetryDelay); River's own
		// "retry now" brings it forward instead of waiting.
		_, err = r.client.JobRetry(t.Context(), int64(job.ID))
		require.NoError(t, err)
		failed := waitState(t, r, int64(job.ID), StateFailed)
		require.Equal(t, 2, failed.Attempts)
		require.NoError(t, json.Unmarshal(failed.Error, &msg))
		require.Contains(t, msg, "database on fire")
		require.Nil(t, failed.Result)
		require.True(t, failed.IsSettled())
		require.Len(t, cleaner.Calls(), 2)
	})
}

func TestJobsFiltersAndPages(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		cleaner := &fakeCleaner{answers: []answer{{removed: 1, done: true}}}
		worked := newRunner(t, db, cleaner)
		start(t, worked)
		var ids []int64
		for range 3 {
			job, err := worked.EnqueueCleanSessions(ctx, 1)
			require.NoError(t, err)
			waitState(t, worked, int64(job.ID), StateCompleted)
			ids = append(ids, int64(job.ID))
		}
		// Nobody works the next two: the worker is stopped, and a Runner
		// that is not started only enqueues.
		stop(t, worked)
		idle := newRunner(t, db, cleaner)
		for range 2 {
			job, err := idle.EnqueueCleanSessions(ctx, 2)
			require.NoError(t, err)
			ids = append(ids, int64(job.ID))
		}

		list := func(opts listquery.Options) ([]int64, int) {
			l, err := idle.Jobs(ctx, opts)
			require.NoError(t, err)
			var got []int64
			for _, j := range l.Items {
				got = append(got, int64(j.ID))
			}
			return got, l.TotalItems
		}
		by := func(fields ...listquery.FieldFilter) listquery.Options {
			return listquery.Options{Filter: &listquery.Filter{Fields: fields}}
		}
		state := func(ops listquery.StringOperators) listquery.FieldFilter {
			return listquery.FieldFilter{Field: "state", Ops: &ops}
		}
		queue := func(ops listquery.StringOperators) listquery.FieldFilter {
			return listquery.FieldFilter{Field: "queueName", Ops: &ops}
		}
		settled := func(b bool) listquery.FieldFilter {
			return listquery.FieldFilter{Field: "isSettled", Ops: &listquery.BooleanOperators{Eq: &b}}
		}
		n := func(i int) *int { return &i }
		got, total := list(listquery.Options{})
		require.Equal(t, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, got, "newest first")
		require.Equal(t, 5, total)
		got, total = list(listquery.Options{Skip: n(1), Take: n(2)})
		require.Equal(t, []int64{ids[3], ids[2]}, got)
		require.Equal(t, 5, total)
		got, _ = list(listquery.Options{Take: n(2), Sort: []listquery.Sort{{Field: "createdAt"}}})
		require.Equal(t, []int64{ids[0], ids[1]}, got)
		got, total = list(by(state(listquery.StringOperators{Eq: str(string(StatePending))})))
		require.Equal(t, []int64{ids[4], ids[3]}, got)
		require.Equal(t, 2, total)
		got, total = list(by(state(listquery.StringOperators{In: []string{string(StateFailed), string(StateCompleted)}})))
		require.Equal(t, []int64{ids[2], ids[1], ids[0]}, got)
		require.Equal(t, 3, total)
		_, total = list(by(settled(true)))
		require.Equal(t, 3, total)
		_, total = list(by(settled(false), queue(listquery.StringOperators{Eq: str(CleanSessionsQueue)})))
		require.Equal(t, 2, total)
		got, total = list(by(settled(true), state(listquery.StringOperators{Eq: str(string(StatePending))})))
		require.Empty(t, got, "no state is both")
		require.Zero(t, total)
		got, total = list(by(queue(listquery.StringOperators{In: []string{"other"}})))
		require.Empty(t, got)
		require.Zero(t, total)
		got, total = list(listquery.Options{Skip: n(10)})
		require.Empty(t, got)
		require.Equal(t, 5, total)
		_, err := idle.Jobs(ctx, listquery.Options{Take: n(MaxListTake + 1)})
		require.ErrorIs(t, err, listquery.ErrInvalid)

		queues, err := idle.Queues(ctx)
		require.NoError(t, err)
		require.Equal(t, []Queue{{Name: CleanSessionsQueue, Running: false}}, queues)
		queues, err = worked.Queues(ctx)
		require.NoError(t, err)
		require.Equal(t, []Queue{{Name: CleanSessionsQueue, Running: false}}, queues, "stopped")
		started := newRunner(t, db, cleaner)
		start(t, started)
		queues, err = started.Queues(ctx)
		require.NoError(t, err)
		require.Equal(t, []Queue{{Name: CleanSessionsQueue, Running: true}}, queues)
	})
}

func TestScheduledTasks(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		clock := testenv.NewClock() // 2026-01-02 03:04:05 UTC
		cleaner := &fakeCleaner{answers: []answer{{removed: 9, done: true}}}
		r := newRunner(t, db, cleaner, func(c *Config) {
			c.NowFunc = clock.Now
			c.Schedule = "" // the default, daily at midnight
		})
		tasks, err := r.ScheduledTasks(ctx)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		task := tasks[0]
		require.Equal(t, "clean-sessions", task.ID)
		require.Equal(t, "Clean expired & inactive sessions from the database", task.Description)
		require.Equal(t, "0 0 * * *", task.Schedule)
		require.True(t, task.Enabled)
		require.Equal(t, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), *task.NextExecutionAt)
		require.Nil(t, task.LastExecutedAt)
		require.Nil(t, task.LastResult)
		require.False(t, task.IsRunning)

		start(t, r)
		job, err := r.EnqueueCleanSessions(ctx, 3)
		require.NoError(t, err)
		done := waitState(t, r, int64(job.ID), StateCompleted)
		tasks, err = r.ScheduledTasks(ctx)
		require.NoError(t, err)
		require.Equal(t, done.StartedAt, tasks[0].LastExecutedAt)
		require.JSONEq(t, `{"batchSize":3,"sessionsRemoved":9}`, string(tasks[0].LastResult))

		off := newRunner(t, db, cleaner, func(c *Config) { c.Schedule = "OFF" })
		tasks, err = off.ScheduledTasks(ctx)
		require.NoError(t, err)
		require.False(t, tasks[0].Enabled)
		require.Equal(t, "off", tasks[0].Schedule)
		require.Nil(t, tasks[0].NextExecutionAt)
	})
}

// TestStopWhileJobRuns: a job running at shutdown finishes when it can
// within the grace period, and is cancelled and retried when it cannot;
// Stop returns either way.
func TestStopWhileJobRuns(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		cleaner := &fakeCleaner{
			answers: []answer{{removed: 5, done: true}},
			block:   make(chan struct{}),
			entered: make(chan struct{}, 4),
		}
		r := newRunner(t, db, cleaner, func(c *Config) { c.StopTimeout, c.CancelTimeout = waitGuard, waitGuard })
		start(t, r)

		// Finishes within the grace period.
		job, err := r.EnqueueCleanSessions(ctx, 1)
		require.NoError(t, err)
		<-cleaner.entered
		stopped := make(chan struct{})
		go func() { r.Stop(); close(stopped) }()
		close(cleaner.block)
		<-stopped
		require.NoError(t, r.TestSignals.RiverStopped.WaitOrTimeout())
		require.Equal(t, StateCompleted, mustJob(t, r, int64(job.ID)).State)

		// Does not finish: cancelled, then retried later.
		cleaner.mu.Lock()
		cleaner.block = make(chan struct{}) // never closed
		cleaner.mu.Unlock()
		// The least grace there is: the job would not finish in any.
		r = newRunner(t, db, cleaner, func(c *Config) { c.StopTimeout, c.CancelTimeout = time.Nanosecond, waitGuard })
		start(t, r)
		job, err = r.EnqueueCleanSessions(ctx, 1)
		require.NoError(t, err)
		<-cleaner.entered
		stop(t, r)
		got := mustJob(t, r, int64(job.ID))
		require.Contains(t, []State{StateRetrying, StatePending}, got.State, "to be retried")
		require.Zero(t, got.Attempts, "River gives the attempt back: a shutdown is not the job's failure")

		// The next instance to start runs it.
		cleaner.mu.Lock()
		cleaner.block, cleaner.entered = nil, nil
		cleaner.mu.Unlock()
		r = newRunner(t, db, cleaner)
		start(t, r)
		done := waitState(t, r, int64(job.ID), StateCompleted)
		require.Equal(t, 1, done.Attempts)
		require.JSONEq(t, `{"batchSize":1,"sessionsRemoved":5}`, string(done.Result))
	})
}

func mustJob(t *testing.T, r *Runner, id int64) *Job {
	t.Helper()
	job, err := r.Job(t.Context(), entityID(id))
	require.NoError(t, err)
	return job
}

func entityID(id int64) entity.ID { return entity.ID(id) }

func str(s string) *string { return &s }
