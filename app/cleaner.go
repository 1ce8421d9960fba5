package app

import (
	"context"
	"time"

	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service"
)

// sessionCleaner returns the SessionService as the clean-sessions job's
// jobs.Cleaner.
//
// Transitional: SessionService.CleanExpiredSessionsUntil, which bounds a
// cleanup by the job's deadline, lands in a parallel change. Until it is
// merged, the service's CleanExpiredSessions (which cleans until nothing
// is due) stands in, reporting done. Once it is merged this file reduces
// to passing a.Sessions; delete it then.
func sessionCleaner(s *service.SessionService) jobs.Cleaner {
	if c, ok := any(s).(jobs.Cleaner); ok {
		return c
	}
	return untilAdapter{s}
}

type untilAdapter struct{ s *service.SessionService }

func (a untilAdapter) CleanExpiredSessionsUntil(ctx context.Context, batchSize int, _ time.Time) (int, bool, error) {
	n, err := a.s.CleanExpiredSessions(ctx, batchSize)
	return n, err == nil, err
}
