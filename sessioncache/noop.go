package sessioncache

import "context"

// Noop is a Strategy that caches nothing, as Vendure's
// NoopSessionCacheStrategy: Set, Delete and Clear do nothing and Get always
// misses, so every request loads its session from the database. Its zero
// value is ready to use.
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
