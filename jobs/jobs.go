// Package jobs runs the server's background jobs on River
// (github.com/riverqueue/river): the clean-sessions job, triggered on demand
// (session.Service.TriggerCleanSessionsJob, the Admin API's
// triggerCleanSessionsJob) and on a schedule that runs once per period
// across every server instance sharing the database; and the notify job,
// which delivers one notify.Message through a notify.Sender, enqueued in
// the transaction that writes what the message tells of
// (EnqueueNotificationTx) and retried with backoff (notify.go).
//
// This file is the package's contract with the rest of the server: the Job
// shape the Admin API shows (Vendure's Job), and the interfaces on both
// sides. The package does not import service; the workers reach
// session.Service through Cleaner and the account service through
// RegistrationExpirer and TokenRenewer.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/listquery"
)

// CleanSessionsQueue is the queue name of the clean-sessions job, as in
// Vendure ('clean-sessions').
const CleanSessionsQueue = "clean-sessions"

// ErrNotFound is returned for a job id that names no job.
var ErrNotFound = errors.New("job not found")

// State is a job's state as Vendure's JobState names it.
type State string

// The states of Vendure's JobState enum. River's states map onto them:
// available, scheduled and pending are PENDING; running is RUNNING;
// completed is COMPLETED; retryable is RETRYING; discarded is FAILED;
// cancelled is CANCELLED.
const (
	StatePending   State = "PENDING"
	StateRunning   State = "RUNNING"
	StateCompleted State = "COMPLETED"
	StateRetrying  State = "RETRYING"
	StateFailed    State = "FAILED"
	StateCancelled State = "CANCELLED"
)

// Job is one job as the Admin API shows it (Vendure's Job type).
type Job struct {
	ID        entity.ID
	QueueName string
	State     State
	// Progress is 0–100 (Vendure's scale); 100 once completed.
	Progress float64
	// Data is the job's arguments as JSON, e.g. {"batchSize":1000}; a
	// notify job's with the address masked (publicArgs).
	Data json.RawMessage
	// Result is the job's output as JSON once it has one, e.g.
	// {"batchSize":1000,"sessionsRemoved":42}; nil before.
	Result json.RawMessage
	// Error is the last attempt's error as JSON, nil when there is none.
	Error json.RawMessage
	// Retries is how many times the job may be retried after its first
	// attempt (Vendure's retries); Attempts how many attempts have started.
	Retries   int
	Attempts  int
	CreatedAt time.Time
	StartedAt *time.Time
	SettledAt *time.Time
}

// IsSettled reports whether the job will not run again (completed, failed
// or cancelled).
func (j *Job) IsSettled() bool {
	return j.State == StateCompleted || j.State == StateFailed || j.State == StateCancelled
}

// Duration is Vendure's duration: from start to settlement, or to now while
// running; 0 before the job starts.
func (j *Job) Duration(now time.Time) time.Duration {
	if j.StartedAt == nil {
		return 0
	}
	end := now
	if j.SettledAt != nil {
		end = *j.SettledAt
	}
	return end.Sub(*j.StartedAt)
}

// CleanSessionsResult is the clean-sessions job's result.
type CleanSessionsResult struct {
	BatchSize       int `json:"batchSize"`
	SessionsRemoved int `json:"sessionsRemoved"`
}

// List is one page of jobs and the number of jobs the options select.
type List struct {
	Items      []*Job
	TotalItems int
}

// Queue is one job queue (Vendure's JobQueue).
type Queue struct {
	Name string
	// Running is true while this instance's workers process the queue.
	Running bool
}

// ScheduledTask is a periodic job (Vendure's ScheduledTask).
type ScheduledTask struct {
	ID          string
	Description string
	// Schedule is the cron expression; Enabled is false when it is "off".
	Schedule        string
	Enabled         bool
	LastExecutedAt  *time.Time
	NextExecutionAt *time.Time
	IsRunning       bool
	LastResult      json.RawMessage
}

// Cleaner is what the clean-sessions worker calls: session.Service's
// CleanExpiredSessions, bounded by a deadline. It returns how many sessions
// it removed and whether none that are due remain (false when it stopped at
// the deadline; the worker then enqueues a follow-up job).
type Cleaner interface {
	CleanExpiredSessionsUntil(ctx context.Context, batchSize int, deadline time.Time) (removed int, done bool, err error)
}

// RegistrationExpirer is what the clean-sessions worker calls once the
// sessions due are gone: AccountService's ExpireRegistrations. It returns
// how many registrations it removed.
type RegistrationExpirer interface {
	ExpireRegistrations(ctx context.Context) (int, error)
}

// Queries is what the Admin API reads and triggers; *Runner implements it.
type Queries interface {
	EnqueueCleanSessions(ctx context.Context, batchSize int) (*Job, error)
	Job(ctx context.Context, id entity.ID) (*Job, error)
	Jobs(ctx context.Context, opts listquery.Options) (*List, error)
	Queues(ctx context.Context) ([]Queue, error)
	ScheduledTasks(ctx context.Context) ([]ScheduledTask, error)
}
