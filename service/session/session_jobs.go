package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/outcome"
)

// DefaultCleanSessionsBatchSize is Vendure's batch size of the
// clean-sessions job, the job's own default.
const DefaultCleanSessionsBatchSize = jobs.DefaultBatchSize

// MaxCleanSessionsBatchSize bounds a caller's batch size: one batch is one
// DELETE and one cache eviction of that many keys.
const MaxCleanSessionsBatchSize = 100_000

// CleanSessionsEnqueuer enqueues the clean-sessions job; package jobs'
// Runner implements it.
type CleanSessionsEnqueuer interface {
	EnqueueCleanSessions(ctx context.Context, batchSize int) (*jobs.Job, error)
}

// errNoJobQueue is returned by TriggerCleanSessionsJob when the service was
// built without a job queue (a fault of the wiring, not of the caller).
var errNoJobQueue = errors.New("no job queue is configured")

// TriggerCleanSessionsJob is Vendure's triggerCleanSessionsJob: it enqueues
// a clean-sessions job carrying {batchSize} and returns it. A batchSize of
// 0 or less takes the configured default (CLEAN_SESSIONS_BATCH_SIZE); one
// above MaxCleanSessionsBatchSize is refused with outcome.ErrInvalidInput.
func (s *Service) TriggerCleanSessionsJob(ctx context.Context, batchSize int) (*jobs.Job, error) {
	if batchSize <= 0 {
		batchSize = s.cleanBatchSize
	}
	if batchSize > MaxCleanSessionsBatchSize {
		return nil, fmt.Errorf("%w: batchSize must be at most %d, got %d", outcome.ErrInvalidInput, MaxCleanSessionsBatchSize, batchSize)
	}
	if s.jobs == nil {
		return nil, errNoJobQueue
	}
	return s.jobs.EnqueueCleanSessions(ctx, batchSize)
}
