package password

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by a Pool when no hashing slot frees up in time for
// the caller. It is a fault, not a wrong password: the GraphQL layer
// answers INTERNAL_SERVER_ERROR.
var ErrBusy = errors.New("password hashing: no free slot in time")

// Pool bounds how many hashes and checks of the Hasher it wraps run at once
// (PASSWORD_HASH_CONCURRENCY). Bcrypt is pure CPU: without a bound, a few
// clients sending wrong passwords in a loop keep every core busy and starve
// the cheap requests (docs/benchmarks.md, "Under attack and outage").
// Callers beyond the bound queue in arrival
// order and give up with ErrBusy when their context ends (the client
// hanging up), or when what remains before its deadline is shorter than a
// typical hash: such a hash would end after the request anyway, so it
// would only burn a slot, and giving up while the request still lives
// lets it answer with an error rather than a timeout. A storm thus costs
// at most the bound's cores, and waiting logins never pile up past their
// deadline.
//
// Each hash also runs on an OS thread of its own whose nice value is raised
// by 5 (Linux): when the cores are contended, the scheduler serves request
// handling (and the load balancer's health checks) first, and hashing takes
// what is left; on an idle machine it runs at full speed.
type Pool struct {
	next    Hasher
	slots   chan struct{}
	waiting atomic.Int64
	// typical is a moving average of how long one Hash or Check takes, in
	// nanoseconds (0 until the first one ends).
	typical atomic.Int64
	metrics PoolRecorder // nil: none
}

// PoolRecorder receives each caller's wait for a slot, for metrics
// (package internal/metrics implements it): how long it waited (0 when a
// slot was free) and whether it got one (false: ErrBusy).
type PoolRecorder interface {
	SlotWaited(d time.Duration, granted bool)
}

// NewPool wraps next so that at most n (at least 1) of its Hash and Check
// calls run at once.
func NewPool(next Hasher, n int) *Pool { return NewRecordedPool(next, n, nil) }

// NewRecordedPool is NewPool whose waits for a slot go to rec (nil: none).
func NewRecordedPool(next Hasher, n int, rec PoolRecorder) *Pool {
	return &Pool{next: next, slots: make(chan struct{}, max(1, n)), metrics: rec}
}

// Size returns the bound.
func (p *Pool) Size() int { return cap(p.slots) }

// InUse returns how many hashes or checks are running.
func (p *Pool) InUse() int { return len(p.slots) }

// Waiting returns how many callers are waiting for a slot.
func (p *Pool) Waiting() int { return int(p.waiting.Load()) }

// acquire takes a slot, waiting until one frees up, ctx ends, or too
// little time remains before ctx's deadline for a typical hash. Its errors
// wrap ErrBusy and not ctx's error: a wait that runs out is our fault,
// whatever maps the context's errors elsewhere.
func (p *Pool) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		p.record(0, false)
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	select {
	case p.slots <- struct{}{}:
		p.record(0, true)
		return nil
	default:
	}
	start := time.Now()
	err := p.wait(ctx)
	p.record(time.Since(start), err == nil)
	return err
}

// record passes a wait to the PoolRecorder, if any.
func (p *Pool) record(d time.Duration, granted bool) {
	if p.metrics != nil {
		p.metrics.SlotWaited(d, granted)
	}
}

// wait is acquire once no slot was free at once.
func (p *Pool) wait(ctx context.Context) error {
	var giveUp <-chan time.Time
	if deadline, ok := ctx.Deadline(); ok {
		t := time.NewTimer(time.Until(deadline) - time.Duration(p.typical.Load()))
		defer t.Stop()
		giveUp = t.C
	}
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrBusy, ctx.Err())
	case <-giveUp:
		return fmt.Errorf("%w: less than a hash's time (%v) left before the deadline", ErrBusy,
			time.Duration(p.typical.Load()).Round(time.Millisecond))
	}
}

// release frees the slot taken at start and adds the run's duration to
// the moving average (weight 1/8; races between two releases only lose
// one sample).
func (p *Pool) release(start time.Time) {
	d := int64(time.Since(start))
	if old := p.typical.Load(); old != 0 {
		d = old + (d-old)/8
	}
	p.typical.Store(d)
	<-p.slots
}

// Hash hashes password in a slot of the pool.
func (p *Pool) Hash(ctx context.Context, password string) (string, error) {
	if err := Validate(password); err != nil {
		return "", err // cheap: no slot needed
	}
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release(time.Now())
	var h string
	var err error
	runLowPriority(func() { h, err = p.next.Hash(ctx, password) })
	return h, err
}

// Check checks password against hash in a slot of the pool.
func (p *Pool) Check(ctx context.Context, hash, password string) (bool, error) {
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	defer p.release(time.Now())
	var ok bool
	var err error
	runLowPriority(func() { ok, err = p.next.Check(ctx, hash, password) })
	return ok, err
}

// Strength is the wrapped Hasher's: it does no hashing.
func (p *Pool) Strength(hash string) Strength { return p.next.Strength(hash) }

// niceIncrement is how much hashing threads are niced below the process.
const niceIncrement = 5

// runLowPriority runs f on an OS thread of its own at a lower priority
// (lowerThreadPriority) and waits for it. A panic in f is raised again in
// the caller's goroutine, where the request's recover sees it. Creating a
// thread costs tens of microseconds, against hundreds of milliseconds of
// hashing.
func runLowPriority(f func()) {
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		lowerThreadPriority()
		f()
	}()
	if v := <-done; v != nil {
		panic(v)
	}
}
