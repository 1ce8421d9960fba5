package testsignal_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testsignal"
)

func TestSignal(t *testing.T) {
	t.Parallel()

	t.Run("UninitialisedDoesNothing", func(t *testing.T) {
		t.Parallel()
		var s testsignal.Signal[int]
		s.Signal(1) // production: no test listens
		require.Panics(t, func() { s.WaitOrTimeout() }, "waiting needs Init")
		require.Panics(t, s.Discard)
	})

	t.Run("DeliversInOrder", func(t *testing.T) {
		t.Parallel()
		var s testsignal.Signal[string]
		s.Init(t)
		s.Signal("a")
		s.Signal("b")
		require.Equal(t, "a", s.WaitOrTimeout())
		require.Equal(t, "b", s.WaitOrTimeout())
	})

	t.Run("WaitsForTheSender", func(t *testing.T) {
		t.Parallel()
		var s testsignal.Signal[int]
		s.Init(t)
		go s.Signal(7)
		require.Equal(t, 7, s.WaitOrTimeout())
	})

	// A service signals every round whether or not its test waits: beyond
	// the buffer, values are dropped and the sender never blocks.
	t.Run("NeverBlocks", func(t *testing.T) {
		t.Parallel()
		var s testsignal.Signal[int]
		s.Init(t)
		for i := range 1000 {
			s.Signal(i)
		}
		require.Equal(t, 0, s.WaitOrTimeout(), "the oldest kept value")
		s.Discard()
		s.Signal(1000)
		require.Equal(t, 1000, s.WaitOrTimeout(), "Discard dropped what accumulated")
	})

	// A test may initialise the signals of a service already running.
	t.Run("InitWhileSignalling", func(t *testing.T) {
		t.Parallel()
		var s testsignal.Signal[int]
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					s.Signal(1)
				}
			}
		})
		s.Init(t)
		require.Equal(t, 1, s.WaitOrTimeout())
		close(stop)
		wg.Wait()
	})
}
