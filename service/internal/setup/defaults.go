// Package setup holds what every service constructor does with its Config:
// the defaults of the fields all of them share and the check of the
// required ones.
package setup

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Logger is l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Now is f, or time.Now when f is nil.
func Now(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

// Field is a required Config field: its name, and whether it is unset.
type Field struct {
	Name  string
	Unset bool
}

// Required names every unset field of service's Config in one error, or
// returns nil.
func Required(service string, fields ...Field) error {
	var errs []error
	for _, f := range fields {
		if f.Unset {
			errs = append(errs, fmt.Errorf("%s: %s is required", service, f.Name))
		}
	}
	return errors.Join(errs...)
}
