// Package testsignal lets a background service tell a test that something
// happened (a sync round ended, a service stopped), so the test waits for
// the event instead of polling or sleeping. A service holds a Signal per
// event and sends on it unconditionally; the send does nothing unless a
// test initialised the signal, so production pays one atomic load.
//
// By convention a service groups its signals in a TestSignals struct field
// whose Init method initialises them all:
//
//	svc.TestSignals.Init(t)
//	... // cause the event
//	err := svc.TestSignals.Synced.WaitOrTimeout()
package testsignal

import (
	"sync/atomic"
	"time"
)

// TB is what a Signal needs of a test; testing.TB has it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// WaitGuard bounds WaitOrTimeout. It keeps a broken service from hanging
// its test, and asserts nothing about how long the event takes.
const WaitGuard = time.Minute

// bufferSize is how many values a Signal keeps for its test to wait for.
const bufferSize = 64

// Signal carries values of type T from a service to a test that
// initialised it. The zero value is ready: Signal on it does nothing.
// It must not be copied after first use.
type Signal[T any] struct {
	state atomic.Pointer[state[T]]
}

type state[T any] struct {
	ch chan T
	tb TB
}

// Init makes the signal keep what is sent from now on, for WaitOrTimeout.
// Only tests call it. It may be called while the service runs.
func (s *Signal[T]) Init(tb TB) {
	s.state.Store(&state[T]{ch: make(chan T, bufferSize), tb: tb})
}

// Signal sends v to the test, if one initialised the signal; otherwise it
// does nothing. It never blocks: with bufferSize values waiting, v is
// dropped, so a service that signals every round may run on while its test
// does something else (Discard drops what accumulated).
func (s *Signal[T]) Signal(v T) {
	st := s.state.Load()
	if st == nil {
		return
	}
	select {
	case st.ch <- v:
	default:
	}
}

// WaitOrTimeout returns the oldest value not yet waited for, waiting for
// one if none is. It fails the test if none comes within WaitGuard. Call
// it from the test's goroutine.
func (s *Signal[T]) WaitOrTimeout() T {
	st := s.mustState()
	st.tb.Helper()
	timer := time.NewTimer(WaitGuard)
	defer timer.Stop()
	select {
	case v := <-st.ch:
		return v
	case <-timer.C:
		st.tb.Fatalf("testsignal: nothing signalled within %v", WaitGuard)
		panic("unreachable: Fatalf returned")
	}
}

// Discard drops the values sent so far and not waited for, so the next
// WaitOrTimeout returns a value sent after Discard began.
func (s *Signal[T]) Discard() {
	st := s.mustState()
	for {
		select {
		case <-st.ch:
		default:
			return
		}
	}
}

func (s *Signal[T]) mustState() *state[T] {
	st := s.state.Load()
	if st == nil {
		panic("testsignal: signal not initialised (Init is for tests)")
	}
	return st
}
