package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Recorder receives the end of each attempt of a job this instance
// worked, for metrics (package internal/metrics implements it):
// Config.Metrics nil records nothing. kind is one of Kinds.
type Recorder interface {
	JobWorked(kind string, r WorkResult, d time.Duration)
}

// Kinds returns the kinds of every job the Runner works.
func Kinds() []string { return []string{CleanSessionsQueue, NotifyQueue} }

// WorkResult is how one attempt of a job ended, which decides the job's
// next state in River.
type WorkResult uint8

// The results of an attempt.
const (
	// WorkCompleted: the job is completed.
	WorkCompleted WorkResult = iota
	// WorkRetryable: the attempt failed (an error or a panic) and the job
	// is retried later.
	WorkRetryable
	// WorkDiscarded: the attempt failed and was the last: the job failed.
	WorkDiscarded
	// WorkCancelled: the worker cancelled the job (river.JobCancel).
	WorkCancelled
	// WorkSnoozed: the worker put the job off (river.JobSnooze).
	WorkSnoozed

	numWorkResults = iota
)

var workResultNames = [numWorkResults]string{"completed", "retryable", "discarded", "cancelled", "snoozed"}

// String is the result's metric label value.
func (r WorkResult) String() string {
	if int(r) < len(workResultNames) {
		return workResultNames[r]
	}
	return fmt.Sprintf("WorkResult(%d)", r)
}

// WorkResults returns every WorkResult, in order.
func WorkResults() []WorkResult {
	out := make([]WorkResult, numWorkResults)
	for i := range out {
		out[i] = WorkResult(i)
	}
	return out
}

// workResultOf is the result of an attempt of job that returned err.
func workResultOf(job *rivertype.JobRow, err error) WorkResult {
	switch {
	case err == nil:
		return WorkCompleted
	case errors.Is(err, &rivertype.JobCancelError{}):
		return WorkCancelled
	case errors.Is(err, &rivertype.JobSnoozeError{}):
		return WorkSnoozed
	case job.Attempt >= job.MaxAttempts:
		return WorkDiscarded
	default:
		return WorkRetryable
	}
}

// errPanicked stands for the error of an attempt that panicked.
var errPanicked = errors.New("the worker panicked")

// metricsMiddleware passes each attempt's result and duration (on the
// Runner's clock) to a Recorder.
type metricsMiddleware struct {
	river.MiddlewareDefaults
	rec Recorder
	now func() time.Time
}

var _ rivertype.WorkerMiddleware = (*metricsMiddleware)(nil)

// Work runs the attempt and records how it ended; a panic is recorded as
// a failure and goes on up to River, which recovers it.
func (m *metricsMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start := m.now()
	returned := false
	defer func() {
		if !returned {
			err = errPanicked
		}
		m.rec.JobWorked(job.Kind, workResultOf(job, err), m.now().Sub(start))
	}()
	err = doInner(ctx)
	returned = true
	return err
}
