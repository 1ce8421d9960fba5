package startstop_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/internal/testsignal"
)

// loop is a service like the server's: its goroutine runs until its
// context ends, then takes as long as its test lets it to wind down.
type loop struct {
	startstop.BaseStartStop

	startErr error         // returned by Start, if set
	release  chan struct{} // when set, the winding down waits for it
	runs     atomic.Int64  // runs begun
	running  atomic.Bool   // between the goroutine's start and its return

	TestSignals struct {
		Stopping testsignal.Signal[error] // the run's context ended; its cause
	}
}

func (l *loop) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := l.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	if l.startErr != nil {
		stopped()
		return l.startErr
	}
	l.runs.Add(1)
	go func() {
		defer stopped()
		l.running.Store(true)
		defer l.running.Store(false)
		started()
		<-ctx.Done()
		l.TestSignals.Stopping.Signal(context.Cause(ctx))
		if l.release != nil {
			<-l.release
		}
	}()
	return nil
}

// closed waits for ch to be closed, within the hang guard.
func closed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testsignal.WaitGuard):
		t.Fatalf("%s: not closed", what)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

var _ startstop.Service = (*loop)(nil)

func TestStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("StopWithoutStart", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		l.Stop()
		l.Stop()
		require.False(t, isClosed(l.Started()), "never started")
		require.False(t, isClosed(l.Stopped()), "the first run's channel: it has not run")
		require.Zero(t, l.runs.Load())
	})

	t.Run("StartThenStop", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		l.TestSignals.Stopping.Init(t)
		require.NoError(t, l.Start(ctx))
		closed(t, l.Started(), "Started")
		require.True(t, l.running.Load())
		require.False(t, isClosed(l.Stopped()))

		l.Stop()
		require.False(t, l.running.Load(), "Stop returns once the goroutine has")
		require.ErrorIs(t, l.TestSignals.Stopping.WaitOrTimeout(), startstop.ErrStop, "the cause tells a Stop")
		require.True(t, isClosed(l.Stopped()), "the last run's channel, after Stop")
		require.True(t, isClosed(l.Started()))
	})

	t.Run("StartIsIdempotent", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		require.NoError(t, l.Start(ctx))
		started, stopped := l.Started(), l.Stopped()
		require.NoError(t, l.Start(ctx))
		require.NoError(t, l.Start(ctx))
		require.EqualValues(t, 1, l.runs.Load(), "one run")
		require.Equal(t, started, l.Started())
		require.Equal(t, stopped, l.Stopped())
		l.Stop()
		require.True(t, isClosed(stopped))
	})

	t.Run("StopIsIdempotent", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		require.NoError(t, l.Start(ctx))
		l.Stop()
		l.Stop()
		require.True(t, isClosed(l.Stopped()))
		require.EqualValues(t, 1, l.runs.Load())
	})

	// Stop returns only after the goroutine has returned, however long it
	// takes to wind down; every concurrent Stop waits for it.
	t.Run("StopWaitsForTheLoop", func(t *testing.T) {
		t.Parallel()
		l := &loop{release: make(chan struct{})}
		l.TestSignals.Stopping.Init(t)
		require.NoError(t, l.Start(ctx))
		closed(t, l.Started(), "Started")

		var returned, early atomic.Int64
		var stops sync.WaitGroup
		for range 3 {
			stops.Go(func() {
				l.Stop()
				if l.running.Load() {
					early.Add(1)
				}
				returned.Add(1)
			})
		}
		l.TestSignals.Stopping.WaitOrTimeout() // the goroutine is winding down
		require.Zero(t, returned.Load(), "Stop returned while the goroutine winds down")
		require.False(t, isClosed(l.Stopped()))
		close(l.release)
		stops.Wait()
		require.EqualValues(t, 3, returned.Load())
		require.Zero(t, early.Load(), "a Stop returned before the goroutine did")
		require.True(t, isClosed(l.Stopped()))
	})

	t.Run("ChannelsTakenBeforeStart", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		started, stopped := l.Started(), l.Stopped()
		require.NoError(t, l.Start(ctx))
		closed(t, started, "Started taken before Start")
		l.Stop()
		closed(t, stopped, "Stopped taken before Start")
	})

	t.Run("RestartAfterStop", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		require.NoError(t, l.Start(ctx))
		first := l.Stopped()
		l.Stop()
		require.NoError(t, l.Start(ctx))
		closed(t, l.Started(), "Started of the second run")
		require.EqualValues(t, 2, l.runs.Load())
		require.True(t, isClosed(first))
		second := l.Stopped()
		require.False(t, isClosed(second), "a new run, a new channel")
		l.Stop()
		require.True(t, isClosed(second))
	})

	t.Run("StartError", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		l := &loop{startErr: boom}
		require.ErrorIs(t, l.Start(ctx), boom)
		require.True(t, isClosed(l.Started()), "Started closes when a start fails")
		require.True(t, isClosed(l.Stopped()))
		l.Stop() // nothing to stop

		// The failed run is over: the next Start starts.
		l.startErr = nil
		require.NoError(t, l.Start(ctx))
		require.EqualValues(t, 1, l.runs.Load())
		closed(t, l.Started(), "Started after the failed start")
		require.True(t, l.running.Load())
		l.Stop()
		require.False(t, l.running.Load())
	})

	// The context given to Start bounds the run too; the run then ends on
	// its own, Stop has nothing to wait for, and Start starts again.
	t.Run("StartContextEnds", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		l.TestSignals.Stopping.Init(t)
		runCtx, cancel := context.WithCancel(ctx)
		require.NoError(t, l.Start(runCtx))
		cancel()
		require.ErrorIs(t, l.TestSignals.Stopping.WaitOrTimeout(), context.Canceled)
		closed(t, l.Stopped(), "Stopped after the context ended")
		l.Stop()
		require.NoError(t, l.Start(ctx))
		require.EqualValues(t, 2, l.runs.Load())
		l.Stop()
	})

	t.Run("ConcurrentStartsAndStops", func(t *testing.T) {
		t.Parallel()
		l := &loop{}
		var wg sync.WaitGroup
		errs := make(chan error, 8*50)
		for range 8 {
			wg.Go(func() {
				for range 50 {
					errs <- l.Start(ctx)
					l.Stop()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.False(t, l.running.Load())
		require.True(t, isClosed(l.Stopped()))
	})
}

// order records the order of its services' starts and stops.
type order struct {
	mu  sync.Mutex
	log []string
}

func (o *order) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, s)
}

// named is a service that logs its start and stop to an order.
type named struct {
	startstop.BaseStartStop
	name     string
	order    *order
	startErr error
}

func (n *named) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := n.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	if n.startErr != nil {
		stopped()
		return n.startErr
	}
	n.order.add("start " + n.name)
	go func() {
		defer stopped()
		started()
		<-ctx.Done()
		n.order.add("stop " + n.name)
	}()
	return nil
}

func TestStartAllStopAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("StopsInReverse", func(t *testing.T) {
		t.Parallel()
		o := &order{}
		a, b, c := &named{name: "a", order: o}, &named{name: "b", order: o}, &named{name: "c", order: o}
		require.NoError(t, startstop.StartAll(ctx, a, b, c))
		startstop.StopAll(a, b, c)
		require.Equal(t, []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}, o.log)
	})

	t.Run("StartFailureStopsTheStarted", func(t *testing.T) {
		t.Parallel()
		o := &order{}
		boom := errors.New("boom")
		a, b := &named{name: "a", order: o}, &named{name: "b", order: o}
		bad := &named{name: "bad", order: o, startErr: boom}
		never := &named{name: "never", order: o}
		require.ErrorIs(t, startstop.StartAll(ctx, a, b, bad, never), boom)
		require.Equal(t, []string{"start a", "start b", "stop b", "stop a"}, o.log)
		require.False(t, isClosed(never.Started()), "not started")
	})
}
