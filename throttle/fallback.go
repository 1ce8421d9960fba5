package throttle

import (
	"context"
	"sync/atomic"
	"time"
)

// Fallback is a Limiter that asks Primary (Redis) and, when Primary fails,
// Secondary (this instance's Memory) instead. It never returns an error
// when Secondary does not.
//
// This is the outage policy: neither fail-open (an outage of Redis would
// lift every limit, and an attacker who can slow Redis gets unlimited
// guesses) nor fail-closed (an outage would refuse every login). During an
// outage each instance limits on its own, so the effective limit is at most
// the number of instances times the rule's; the counts made then are not
// carried back to Redis.
type Fallback struct {
	Primary   Limiter
	Secondary Limiter
	// OnError is called with each error of Primary (to log it), at most
	// once per ErrorInterval. May be nil.
	OnError func(err error)
	// ErrorInterval spaces the calls of OnError. Defaults to 1 s.
	ErrorInterval time.Duration

	lastReport atomic.Int64 // unix nanoseconds
}

var _ Limiter = (*Fallback)(nil)

func (f *Fallback) failed(err error) {
	if f.OnError == nil {
		return
	}
	interval := f.ErrorInterval
	if interval <= 0 {
		interval = time.Second
	}
	now := time.Now().UnixNano()
	last := f.lastReport.Load()
	if now-last >= interval.Nanoseconds() && f.lastReport.CompareAndSwap(last, now) {
		f.OnError(err)
	}
}

// Check implements Limiter.
func (f *Fallback) Check(ctx context.Context, rule Rule, key string) (Decision, error) {
	d, err := f.Primary.Check(ctx, rule, key)
	if err != nil {
		f.failed(err)
		return f.Secondary.Check(ctx, rule, key)
	}
	return d, nil
}

// Add implements Limiter.
func (f *Fallback) Add(ctx context.Context, rule Rule, key string) error {
	if err := f.Primary.Add(ctx, rule, key); err != nil {
		f.failed(err)
		return f.Secondary.Add(ctx, rule, key)
	}
	return nil
}

// Take implements Limiter.
func (f *Fallback) Take(ctx context.Context, rule Rule, key string) (Decision, error) {
	d, err := f.Primary.Take(ctx, rule, key)
	if err != nil {
		f.failed(err)
		return f.Secondary.Take(ctx, rule, key)
	}
	return d, nil
}

// Reset implements Limiter: both are reset, so that counts made during an
// outage do not outlive a success either.
func (f *Fallback) Reset(ctx context.Context, rule Rule, key string) error {
	errP := f.Primary.Reset(ctx, rule, key)
	if errP != nil {
		f.failed(errP)
	}
	return f.Secondary.Reset(ctx, rule, key)
}
