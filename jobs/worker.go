package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// CleanSessionsArgs are the clean-sessions job's arguments, stored as
// Vendure's job data: {"batchSize":N}.
type CleanSessionsArgs struct {
	BatchSize int `json:"batchSize"`
}

// Kind implements river.JobArgs; the kind is the queue's name.
func (CleanSessionsArgs) Kind() string { return CleanSessionsQueue }

// InsertOpts implements river.JobArgsWithInsertOpts: the job runs on its
// own queue, as in Vendure.
func (CleanSessionsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: CleanSessionsQueue}
}

// cleanWorker runs clean-sessions jobs. TTx is the River driver's
// transaction type, which River's client in the work context carries.
type cleanWorker[TTx any] struct {
	river.WorkerDefaults[CleanSessionsArgs]
	cleaner       Cleaner
	registrations RegistrationExpirer
	budget        time.Duration
	queryTimeout  time.Duration
	now           func() time.Time
	log           *slog.Logger
}

// Work cleans until the sessions due are gone or the time budget is
// spent; in the second case it enqueues a follow-up job with the same
// arguments, so a large backlog is worked off in bounded jobs instead of
// one that holds a worker (and, on SQLite, the connection) for hours.
func (w *cleanWorker[TTx]) Work(ctx context.Context, job *river.Job[CleanSessionsArgs]) error {
	batch := job.Args.BatchSize
	if batch < 1 {
		// Retrying cannot fix the arguments.
		return river.JobCancel(fmt.Errorf("batchSize must be at least 1, got %d", batch))
	}
	removed, done, err := w.cleaner.CleanExpiredSessionsUntil(ctx, batch, w.now().Add(w.budget))
	if err != nil {
		return fmt.Errorf("clean expired sessions (%d removed before the error): %w", removed, err)
	}
	if !done {
		ictx, cancel := context.WithTimeout(ctx, w.queryTimeout)
		defer cancel()
		// Before completing: should the insert fail, the job is retried
		// and cleans (and follows up) again, which is harmless.
		next, err := river.ClientFromContext[TTx](ctx).Insert(ictx, CleanSessionsArgs{BatchSize: batch}, nil)
		if err != nil {
			return fmt.Errorf("enqueue the follow-up clean-sessions job: %w", err)
		}
		w.log.InfoContext(ctx, "clean-sessions: time budget spent, follow-up job enqueued",
			"job", job.ID, "removed", removed, "followUp", next.Job.ID)
	}
	if done && w.registrations != nil {
		n, err := w.registrations.ExpireRegistrations(ctx)
		if err != nil {
			return fmt.Errorf("expire unverified registrations (%d removed before the error): %w", n, err)
		}
		if n > 0 {
			w.log.InfoContext(ctx, "clean-sessions: unverified registrations expired", "job", job.ID, "removed", n)
		}
	}
	w.log.DebugContext(ctx, "clean-sessions: done", "job", job.ID, "removed", removed)
	return river.RecordOutput(ctx, CleanSessionsResult{BatchSize: batch, SessionsRemoved: removed})
}

// Timeout is River's hard stop for one attempt: the budget, which the
// cleaner honours between batches, plus room for the batch under way.
func (w *cleanWorker[TTx]) Timeout(*river.Job[CleanSessionsArgs]) time.Duration {
	return jobTimeout(w.budget, w.queryTimeout)
}

// jobTimeout is the budget plus a batch's worst case: its select and
// its delete transaction, each bounded by the query timeout, and the
// follow-up insert.
func jobTimeout(budget, queryTimeout time.Duration) time.Duration {
	return budget + 3*queryTimeout + 10*time.Second
}
