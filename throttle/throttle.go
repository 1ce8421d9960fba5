// Package throttle counts events per key in a sliding window and says when a
// key has had too many: the building block of the login, token and mail
// limits. Two implementations share one contract (the conformance suite in
// throttle_test.go): Memory, in this process, and Redis, shared by every
// instance; Fallback puts the first in front of the second's failures.
//
// The window is exact (a log of event times per key, not an estimate from
// fixed buckets): a key with Limit events in the last Window is refused
// until its oldest event leaves the window, and RetryAfter says when that
// is. A key never stores more than Limit events, so its size is bounded
// whatever the rate of calls.
//
// Keys are hashed (SHA-256, 128 bits kept) before they are stored: an
// identifier or e-mail address is never written to Redis or held in memory
// as such, and every stored key has the same small size, however long the
// caller's key is.
//
// The package is a leaf: the standard library and go-redis.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// Rate is a number of events allowed per sliding window.
type Rate struct {
	// Limit is how many events a key may have in any Window. A Limit below
	// 1 allows everything (the rule is off).
	Limit int
	// Window is the length of the sliding window.
	Window time.Duration
}

// Off reports whether the rate allows everything.
func (r Rate) Off() bool { return r.Limit < 1 || r.Window <= 0 }

// String formats the rate as ParseRate reads it ("10/1m0s").
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Limit, r.Window) }

// Rule is a named rate: the name separates the keys of different rules.
// A name must be constant for the life of the stored counts: a key is only
// ever used with one rate.
type Rule struct {
	Name string
	Rate
}

// Decision is the answer of Check and Take.
type Decision struct {
	// Allowed is true when the key is under its limit.
	Allowed bool
	// RetryAfter, when refused, is how long until the oldest counted event
	// leaves the window and the key is under its limit again; 0 when
	// allowed.
	RetryAfter time.Duration
}

// Limiter is the contract both implementations keep. Every method is safe
// for concurrent use. A rule that is Off allows everything and stores
// nothing.
type Limiter interface {
	// Check reports whether key is under rule's limit, without counting:
	// for limits on failures, checked before the work and counted (Add)
	// after a failure.
	Check(ctx context.Context, rule Rule, key string) (Decision, error)
	// Add counts one event for key, even when the key is at its limit (the
	// oldest event is then dropped, so the key keeps at most Limit events
	// and its window restarts from the second oldest).
	Add(ctx context.Context, rule Rule, key string) error
	// Take counts one event when key is under its limit, and reports
	// whether it was, as one atomic step: of N concurrent Takes on a key
	// with room for k, exactly k are allowed.
	Take(ctx context.Context, rule Rule, key string) (Decision, error)
	// Reset forgets key's events.
	Reset(ctx context.Context, rule Rule, key string) error
}

// storedKey is the name under which a rule's key is stored: the rule's
// name and 128 bits of the key's SHA-256, URL-safe base64.
func storedKey(rule Rule, key string) string {
	sum := sha256.Sum256([]byte(key))
	return rule.Name + ":" + base64.RawURLEncoding.EncodeToString(sum[:16])
}
