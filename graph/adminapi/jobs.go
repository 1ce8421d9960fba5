package adminapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/jobs"
)

// errNoJobQueue is the resolvers' error when the server was built without
// a job queue: a fault of the wiring (INTERNAL_SERVER_ERROR), never an
// empty answer that would look like a queue without jobs.
var errNoJobQueue = errors.New("adminapi: no job queue is configured")

// queries returns the job queue, or errNoJobQueue.
func (r *Resolver) queries() (jobs.Queries, error) {
	if r.Jobs == nil {
		return nil, errNoJobQueue
	}
	return r.Jobs, nil
}

// now is the clock of running jobs' durations.
func (r *Resolver) now() time.Time {
	if r.NowFunc != nil {
		return r.NowFunc()
	}
	return time.Now()
}

// jobOrNil is job(jobId): an id that names no job is null.
func jobOrNil(j *jobs.Job, err error) (*jobs.Job, error) {
	if errors.Is(err, jobs.ErrNotFound) {
		return nil, nil
	}
	return j, err
}

// jobsByID is jobsById: the jobs in the order asked, each once, leaving
// out ids that name no job (Vendure's findManyById).
func (r *Resolver) jobsByID(ctx context.Context, ids []entity.ID) ([]*jobs.Job, error) {
	if len(ids) > MaxJobsTake {
		return nil, inputError("jobIds may hold at most %d ids, got %d", MaxJobsTake, len(ids))
	}
	q, err := r.queries()
	if err != nil {
		return nil, err
	}
	out := make([]*jobs.Job, 0, len(ids))
	seen := make(map[entity.ID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		j, err := jobOrNil(q.Job(ctx, id))
		if err != nil {
			return nil, err
		}
		if j != nil {
			out = append(out, j)
		}
	}
	return out, nil
}

// scheduleDescription is Vendure's scheduleDescription (cronstrue's
// English) for the common shapes of a five-field cron expression, and the
// expression itself for the others.
func scheduleDescription(t *jobs.ScheduledTask) string {
	if !t.Enabled {
		return "Disabled"
	}
	f := strings.Fields(t.Schedule)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		return "Cron schedule " + t.Schedule
	}
	minute, hour := f[0], f[1]
	switch {
	case minute == "*" && hour == "*":
		return "Every minute"
	case strings.HasPrefix(minute, "*/") && hour == "*":
		return "Every " + minute[2:] + " minutes"
	case isNumber(minute) && hour == "*":
		return "At " + minute + " minutes past the hour"
	case isNumber(minute) && strings.HasPrefix(hour, "*/"):
		return "At " + minute + " minutes past the hour, every " + hour[2:] + " hours"
	case isNumber(minute) && isNumber(hour):
		h, _ := strconv.Atoi(hour)
		m, _ := strconv.Atoi(minute)
		return fmt.Sprintf("At %02d:%02d", h, m)
	}
	return "Cron schedule " + t.Schedule
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// pointers returns pointers to the elements of s (gqlgen's resolvers return
// lists of pointers).
func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
