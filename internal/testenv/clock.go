// Package testenv holds test helpers shared by the packages' tests: a fake
// clock, databases per dialect, Redis or miniredis, and an HTTP GraphQL client
// that sees response headers and cookies.
package testenv

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock. Its Now method is a valid NowFunc.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to a fixed instant (UTC, whole microseconds so
// values survive a round trip through every database).
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
