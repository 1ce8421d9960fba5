// Package startstop gives the server's background services one lifecycle:
// Start backgrounds the service and returns, Stop ends it and returns once
// it has ended, and Started and Stopped are channels to wait on. A service
// embeds BaseStartStop, which makes Start and Stop idempotent and Stop safe
// without Start; the service writes only its Start, around StartInit.
package startstop

import (
	"context"
	"errors"
	"sync"
)

// ErrStop is the cause (context.Cause) of a run's context when Stop ended
// it, as opposed to the context given to Start ending.
var ErrStop = errors.New("service stopped")

// Service is a background service.
type Service interface {
	// Start starts the service in the background and returns; an error
	// means it did not start. Starting a running service does nothing.
	// The service runs until Stop, or until ctx ends.
	Start(ctx context.Context) error
	// Started returns a channel closed once the service has started, or
	// has given up starting.
	Started() <-chan struct{}
	// Stop stops the service and returns once it has stopped. Stopping a
	// service that is not running does nothing.
	Stop()
	// Stopped returns a channel closed once the service has stopped.
	Stopped() <-chan struct{}
}

// BaseStartStop implements Stop, Started and Stopped for a service that
// embeds it, whose Start calls StartInit first:
//
//	func (s *Service) Start(ctx context.Context) error {
//		ctx, shouldStart, started, stopped := s.StartInit(ctx)
//		if !shouldStart {
//			return nil // running already
//		}
//		if err := prepare(); err != nil {
//			stopped()
//			return err
//		}
//		go func() {
//			defer stopped()
//			started()
//			for ctx.Err() == nil { ... }
//		}()
//		return nil
//	}
//
// Each Start that starts the service begins a run, which ends when its
// stopped function is called: the service's goroutine has returned, or
// Start failed. Started and Stopped return the channels of the current run,
// or of the last one when none is running; before the first Start, those
// of the first run. So a caller may take them before Start, and
// <-Stopped() after Stop returns at once.
//
// The zero value is ready to use. It must not be copied after first use.
type BaseStartStop struct {
	mu      sync.Mutex
	running bool // a run began and Stop has not ended it
	cancel  context.CancelCauseFunc
	started chan struct{}
	stopped chan struct{}
}

// StartInit begins a run, unless one is running (shouldStart false). It
// returns the run's context, which Stop cancels with ErrStop, and two
// functions: started closes the Started channel (at most once), stopped
// ends the run, closing both channels; the service must call stopped
// exactly once, when its goroutine returns or when Start fails.
func (s *BaseStartStop) StartInit(ctx context.Context) (_ context.Context, shouldStart bool, started, stopped func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running && !isClosed(s.stopped) {
		return ctx, false, nil, nil
	}
	// A run that ended, by Stop or by itself, leaves closed channels;
	// those Started or Stopped handed out before the first Start are open
	// and belong to this run.
	if s.started == nil || isClosed(s.started) {
		s.started = make(chan struct{})
	}
	if s.stopped == nil || isClosed(s.stopped) {
		s.stopped = make(chan struct{})
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s.running, s.cancel = true, cancel
	startedCh, stoppedCh := s.started, s.stopped
	closeStarted := sync.OnceFunc(func() { close(startedCh) })
	return ctx, true, closeStarted, func() {
		closeStarted()
		close(stoppedCh)
		cancel(nil) // releases the context; the run is over
	}
}

// Stop cancels the running run's context with ErrStop and waits until the
// run has ended. Concurrent calls all wait for the same run.
func (s *BaseStartStop) Stop() {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return
	}
	cancel, stopped := s.cancel, s.stopped
	s.mu.Unlock()

	cancel(ErrStop)
	<-stopped

	s.mu.Lock()
	if s.stopped == stopped { // no Start began another run meanwhile
		s.running = false
	}
	s.mu.Unlock()
}

// Started returns a channel closed once the run has started, or has ended.
func (s *BaseStartStop) Started() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started == nil {
		s.started = make(chan struct{})
	}
	return s.started
}

// Stopped returns a channel closed once the run has ended.
func (s *BaseStartStop) Stopped() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped == nil {
		s.stopped = make(chan struct{})
	}
	return s.stopped
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// StartAll starts services in order. If one fails, it stops those it
// started (StopAll) and returns that service's error.
func StartAll(ctx context.Context, services ...Service) error {
	for i, s := range services {
		if err := s.Start(ctx); err != nil {
			StopAll(services[:i]...)
			return err
		}
	}
	return nil
}

// StopAll stops services in reverse order, each before the next, so a
// service is stopped before those started ahead of it, which it may use.
func StopAll(services ...Service) {
	for i := len(services) - 1; i >= 0; i-- {
		services[i].Stop()
	}
}
