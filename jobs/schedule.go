package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ScheduleOff is the schedule text that turns the periodic job off.
const ScheduleOff = "off"

// DefaultSchedule runs the clean-sessions job daily at 00:00 UTC, as
// Vendure's cleanSessionsTask does (in the server's zone there).
const DefaultSchedule = "0 0 * * *"

// Schedule is a parsed cron schedule. It implements
// river.PeriodicSchedule.
type Schedule struct {
	spec cron.Schedule
	text string
}

// ParseSchedule parses a standard five-field cron expression
// ("minute hour day-of-month month day-of-week", such as "0 0 * * *"), a
// descriptor (@daily, @hourly, @every 6h), optionally preceded by
// CRON_TZ=Zone; without one the expression is read in UTC. "off" (any
// case) returns nil and no error: no periodic job.
func ParseSchedule(text string) (*Schedule, error) {
	text = strings.TrimSpace(text)
	if strings.EqualFold(text, ScheduleOff) {
		return nil, nil
	}
	spec, err := cron.ParseStandard(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron schedule: %v", text, err)
	}
	s := &Schedule{spec: spec, text: text}
	// A schedule that never fires (February 30th) would make River wait
	// forever for nothing; say so now.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%q never runs", text)
	}
	return s, nil
}

// String returns the expression as given.
func (s *Schedule) String() string { return s.text }

// Next returns the first run strictly after t; robfig's cron reads an
// expression without CRON_TZ in t's zone, so t is taken in UTC to make
// "0 0 * * *" midnight UTC whatever zone the caller's clock uses.
func (s *Schedule) Next(t time.Time) time.Time {
	return s.spec.Next(t.UTC())
}

// slot returns the latest run at or before t: the period a periodic job
// fired at t belongs to. River fires a periodic job up to 100 ms before
// its run time, and later when it is busy, so the callers pass their
// clock plus a margin; every instance then names the same run. Cron has
// no "previous", so it steps forward from a window before t, widening the
// window until a run falls in it.
func (s *Schedule) slot(t time.Time) (time.Time, bool) {
	for window := time.Hour; window <= 8*366*24*time.Hour; window *= 4 {
		run := s.Next(t.Add(-window))
		if run.IsZero() || run.After(t) {
			continue
		}
		for {
			next := s.Next(run)
			if next.IsZero() || next.After(t) {
				return run, true
			}
			run = next
		}
	}
	return time.Time{}, false
}
