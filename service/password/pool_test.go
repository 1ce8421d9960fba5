package password_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/password"
)

// gatedHasher is a Hasher whose Hash and Check announce themselves on
// started and then wait for a value on gate (or its closing). It records
// how many ran at once.
type gatedHasher struct {
	started chan string
	gate    chan struct{}

	mu         sync.Mutex
	running    int
	maxRunning int
}

func newGatedHasher() *gatedHasher {
	return &gatedHasher{started: make(chan string), gate: make(chan struct{})}
}

func (g *gatedHasher) run(what string) {
	g.mu.Lock()
	g.running++
	g.maxRunning = max(g.maxRunning, g.running)
	g.mu.Unlock()
	g.started <- what
	<-g.gate
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
}

func (g *gatedHasher) Hash(_ context.Context, pw string) (string, error) {
	g.run("hash")
	return "gated$" + pw, nil
}

func (g *gatedHasher) Check(_ context.Context, hash, pw string) (bool, error) {
	g.run("check")
	return hash == "gated$"+pw, nil
}

func (g *gatedHasher) Strength(hash string) password.Strength {
	if strings.HasPrefix(hash, "gated$") {
		return password.Current
	}
	return password.Weaker
}

func (g *gatedHasher) max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxRunning
}

// waitForWaiters spins until n callers wait for a slot. It only yields: no
// sleep, no deadline (the test's own timeout is the bound).
func waitForWaiters(p *password.Pool, n int) {
	for p.Waiting() != n {
		runtime.Gosched()
	}
}

func TestPoolBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const n = 2
	g := newGatedHasher()
	p := password.NewPool(g, n)
	require.Equal(t, n, p.Size())
	var _ password.Hasher = p

	type result struct {
		ok  bool
		err error
	}
	results := make(chan result, 10)
	check := func(ctx context.Context) {
		ok, err := p.Check(ctx, "gated$secret", "secret")
		results <- result{ok, err}
	}
	hash := func(ctx context.Context) {
		h, err := p.Hash(ctx, "secret")
		results <- result{h == "gated$secret", err}
	}

	// n calls fill the pool (a hash and a check: both take a slot).
	go hash(context.Background())
	go check(context.Background())
	require.ElementsMatch(t, []string{"hash", "check"}, []string{<-g.started, <-g.started})
	require.Equal(t, n, p.InUse())

	// The n+1th waits, does not run, and gives up when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	go check(ctx)
	waitForWaiters(p, 1)
	select {
	case what := <-g.started:
		t.Fatalf("a %s ran beyond the bound", what)
	default:
	}
	cancel()
	r := <-results
	require.ErrorIs(t, r.err, password.ErrBusy)
	require.NotErrorIs(t, r.err, context.Canceled, "a timeout in the pool is a fault of ours, not the client's")
	require.False(t, r.ok)
	require.Equal(t, 0, p.Waiting())
	require.Equal(t, n, p.InUse())

	// A waiter with time to spare runs as soon as a slot frees up.
	go check(context.Background())
	waitForWaiters(p, 1)
	g.gate <- struct{}{} // one of the first two ends
	require.Equal(t, "check", <-g.started)
	close(g.gate)
	for range 3 {
		r := <-results
		require.NoError(t, r.err)
		require.True(t, r.ok)
	}
	require.Equal(t, n, g.max(), "never more than the bound at once")
	require.Equal(t, 0, p.InUse())
	require.Equal(t, 0, p.Waiting())
}

func TestPoolEndedContext(t *testing.T) {
	t.Parallel()
	g := newGatedHasher()
	p := password.NewPool(g, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	// A free slot is not taken by a caller whose request has ended.
	_, err := p.Check(ctx, "gated$secret", "secret")
	require.ErrorIs(t, err, password.ErrBusy)
	_, err = p.Hash(ctx, "secret")
	require.ErrorIs(t, err, password.ErrBusy)
	require.Equal(t, 0, g.max(), "nothing ran")
	require.Equal(t, 0, p.InUse())
}

func TestPoolPassesThrough(t *testing.T) {
	t.Parallel()
	g := newGatedHasher()
	p := password.NewPool(g, 0)
	require.Equal(t, 1, p.Size(), "at least one slot")

	// Validation and Strength need no slot: they answer while the only
	// slot is taken.
	go func() { _, _ = p.Check(context.Background(), "x", "y") }()
	<-g.started
	_, err := p.Hash(context.Background(), "abc")
	require.ErrorIs(t, err, password.ErrInvalid)
	require.Equal(t, password.Current, p.Strength("gated$x"))
	require.Equal(t, password.Weaker, p.Strength("$2a$04$x"))
	close(g.gate)
}

func TestPoolWithBcrypt(t *testing.T) {
	t.Parallel()
	b, err := password.NewBcrypt(4)
	require.NoError(t, err)
	p := password.NewPool(b, 1)
	ctx := context.Background()

	// Four callers, one slot: each still gets its answer.
	type outcome struct {
		strength        password.Strength
		right, wrong    bool
		hashErr, chkErr error
	}
	out := make(chan outcome, 4)
	for range 4 {
		go func() {
			var o outcome
			hash, err := p.Hash(ctx, "secret")
			o.hashErr = err
			o.strength = p.Strength(hash)
			if o.right, err = p.Check(ctx, hash, "secret"); err == nil {
				o.wrong, err = p.Check(ctx, hash, "other")
			}
			o.chkErr = err
			out <- o
		}()
	}
	for range 4 {
		o := <-out
		require.NoError(t, o.hashErr)
		require.NoError(t, o.chkErr)
		require.Equal(t, password.Current, o.strength)
		require.True(t, o.right)
		require.False(t, o.wrong)
	}
}

// TestPoolGivesUpBeforeTheDeadline: a caller whose deadline is closer than
// a typical hash gives up at once, while its context still lives (so its
// request can answer with an error, not a timeout); one with time to spare
// waits.
func TestPoolGivesUpBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	g := newGatedHasher()
	p := password.NewPool(g, 1)
	require.Zero(t, p.Typical(), "no estimate before the first run")
	go func() { _, _ = p.Check(context.Background(), "gated$x", "x") }()
	<-g.started

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	p.SetTypical(2 * time.Hour)
	_, err := p.Check(ctx, "gated$secret", "secret")
	require.ErrorIs(t, err, password.ErrBusy)
	require.NoError(t, ctx.Err(), "given up before the deadline")
	require.NotErrorIs(t, err, context.DeadlineExceeded)
	_, err = p.Hash(ctx, "secret")
	require.ErrorIs(t, err, password.ErrBusy)

	p.SetTypical(time.Millisecond)
	done := make(chan error, 1)
	go func() {
		_, err := p.Check(ctx, "gated$secret", "secret")
		done <- err
	}()
	waitForWaiters(p, 1)
	g.gate <- struct{}{}
	require.Equal(t, "check", <-g.started)
	g.gate <- struct{}{}
	require.NoError(t, <-done)
	require.NotEqual(t, time.Millisecond, p.Typical(), "each run updates the estimate")
	require.Positive(t, p.Typical())
}

// panicHasher panics in Check.
type panicHasher struct{ gatedHasher }

func (*panicHasher) Check(context.Context, string, string) (bool, error) { panic("boom") }

// TestPoolPanicReachesTheCaller: a panic in the hasher, which runs on a
// thread of its own, is raised in the caller's goroutine (where the
// request's recover sees it), and the slot is freed.
func TestPoolPanicReachesTheCaller(t *testing.T) {
	t.Parallel()
	p := password.NewPool(&panicHasher{}, 1)
	require.PanicsWithValue(t, "boom", func() { _, _ = p.Check(context.Background(), "x", "y") })
	require.Equal(t, 0, p.InUse())
}
