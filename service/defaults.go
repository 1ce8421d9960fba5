package service

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The defaults every service Config shares, so that a zero field means the
// same thing everywhere.

// defaultLogger returns l, or a logger that discards everything: a service
// built without a logger (a test, a tool) stays quiet rather than writing
// to the process's default logger.
func defaultLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// defaultNow returns f, or time.Now.
func defaultNow(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

// required names a Config field a constructor cannot do without.
type required struct {
	name  string
	unset bool
}

// checkRequired returns one error naming every unset required field of a
// service's Config (all at once, as config.Validate does), or nil.
func checkRequired(service string, fields ...required) error {
	var errs []error
	for _, f := range fields {
		if f.unset {
			errs = append(errs, fmt.Errorf("%s: %s is required", service, f.name))
		}
	}
	return errors.Join(errs...)
}
