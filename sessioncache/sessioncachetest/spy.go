package sessioncachetest

import (
	"context"
	"slices"
	"sync"

	"github.com/shopsession/sessionserver/sessioncache"
)

// Spy is a sessioncache.Strategy that records every call and passes it on
// to the strategy it wraps, like the spying cache strategy of Vendure's
// session-management e2e test. Service and e2e tests use it to assert how
// often the cache was read and written and which keys were revoked.
type Spy struct {
	next sessioncache.Strategy

	mu         sync.Mutex
	calls      Calls
	setKeys    []string
	deleteKeys []string
	held       map[string]struct{}
	tokenLeaks int
	onSet      func(key string)
}

// Calls counts the Strategy methods called since the last Reset. Deletes
// counts keys, not calls.
type Calls struct {
	Sets, Gets, Deletes, Clears int
}

var _ sessioncache.Strategy = (*Spy)(nil)

// NewSpy returns a Spy in front of next.
func NewSpy(next sessioncache.Strategy) *Spy {
	return &Spy{next: next, held: map[string]struct{}{}}
}

// Next returns the wrapped strategy.
func (s *Spy) Next() sessioncache.Strategy { return s.next }

// Generation passes through and is not recorded.
func (s *Spy) Generation() sessioncache.Generation { return s.next.Generation() }

// Set records the key, then runs the OnSet hook (outside the lock), then
// passes the call on.
func (s *Spy) Set(ctx context.Context, key string, cs *sessioncache.CachedSession, gen sessioncache.Generation) error {
	s.mu.Lock()
	s.calls.Sets++
	s.setKeys = append(s.setKeys, key)
	s.held[key] = struct{}{}
	if cs != nil && cs.Token != "" {
		s.tokenLeaks++
	}
	hook := s.onSet
	s.mu.Unlock()
	if hook != nil {
		hook(key)
	}
	return s.next.Set(ctx, key, cs, gen)
}

// Get records the call and passes it on.
func (s *Spy) Get(ctx context.Context, key string) (*sessioncache.CachedSession, error) {
	s.mu.Lock()
	s.calls.Gets++
	s.mu.Unlock()
	return s.next.Get(ctx, key)
}

// Delete records the keys and passes the call on.
func (s *Spy) Delete(ctx context.Context, keys ...string) error {
	s.mu.Lock()
	s.calls.Deletes += len(keys)
	s.deleteKeys = append(s.deleteKeys, keys...)
	for _, k := range keys {
		delete(s.held, k)
	}
	s.mu.Unlock()
	return s.next.Delete(ctx, keys...)
}

// Clear records the call and passes it on.
func (s *Spy) Clear(ctx context.Context) error {
	s.mu.Lock()
	s.calls.Clears++
	clear(s.held)
	s.mu.Unlock()
	return s.next.Clear(ctx)
}

// Calls returns the counts since the last Reset.
func (s *Spy) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Reset forgets the recorded calls and keys; the entries stay in the
// wrapped strategy, and Held still counts them.
func (s *Spy) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = Calls{}
	s.setKeys, s.deleteKeys = nil, nil
	s.tokenLeaks = 0
}

// SetKeys returns the keys passed to Set since the last Reset, in order.
func (s *Spy) SetKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.setKeys)
}

// DeleteKeys returns the keys passed to Delete since the last Reset, in order.
func (s *Spy) DeleteKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deleteKeys)
}

// Held is the number of distinct keys set and not deleted or cleared since,
// whatever the wrapped strategy evicted on its own.
func (s *Spy) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// TokenLeaks is the number of Sets since the last Reset whose value carried
// a raw token (CachedSession.Token); it must stay 0.
func (s *Spy) TokenLeaks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenLeaks
}

// OnSet installs f (nil removes it) to run before each Set is passed on,
// so a test can interleave work with a cache write in flight.
func (s *Spy) OnSet(f func(key string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSet = f
}

// Peek returns the wrapped strategy's entry under key without recording a
// call (nil when there is none or the read failed).
func (s *Spy) Peek(ctx context.Context, key string) *sessioncache.CachedSession {
	cs, err := s.next.Get(ctx, key)
	if err != nil {
		return nil
	}
	return cs
}
