package sessioncache

import "context"

// Noop is a Strategy that caches nothing, as Vendure's
// NoopSessionCacheStrategy: Set, Delete and Clear do nothing and Get always
// misses, so every request loads its session from the database. Its zero
// value is ready to use.
//
// It cannot meet the part of the Strategy contract that says Get returns
// what Set stored. It meets the rest: no call fails, Get of a missing key is
// (nil, nil), and nothing deleted, cleared or written with an old
// Generation is ever read back (nothing is). The conformance suite checks
// exactly that with the option for strategies that store nothing,
// sessioncachetest.Exercise(t, …, sessioncachetest.StoresNothing()), and
// Noop passes it. Unlike Memory and Redis, it also accepts a Set of nil.
type Noop struct{}

var _ Strategy = Noop{}

// Generation returns 0.
func (Noop) Generation() Generation { return 0 }

// Set does nothing and returns nil.
func (Noop) Set(context.Context, string, *CachedSession, Generation) error { return nil }

// Get always returns (nil, nil).
func (Noop) Get(context.Context, string) (*CachedSession, error) { return nil, nil }

// Delete does nothing and returns nil.
func (Noop) Delete(context.Context, ...string) error { return nil }

// Clear does nothing and returns nil.
func (Noop) Clear(context.Context) error { return nil }

// StoresNothing reports whether s is Noop, or a wrapper around one that
// exposes what it wraps with a Next method (as sessioncachetest.Spy does).
// What only a cache can hold (a lazy guest session) must not be given to
// it.
func StoresNothing(s Strategy) bool {
	for {
		switch v := s.(type) {
		case Noop:
			return true
		case interface{ Next() Strategy }:
			s = v.Next()
		default:
			return false
		}
	}
}
