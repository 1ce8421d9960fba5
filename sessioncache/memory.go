package sessioncache

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory is an in-process Strategy: a bounded LRU cache of CachedSessions.
// When it holds size entries, Set evicts the least recently used one (Get and
// Set both count as a use). Unlike Vendure's InMemorySessionCacheStrategy,
// whose eviction branch is dead code, it really stays within its bound.
//
// Set stores a copy of the session (the struct, its user, the channel
// permissions and each permission list, and the active order and channel
// IDs), so later changes to the caller's value do not reach the cache. Like
// the serializing strategies it does not keep Token: a session from Get
// always has an empty Token.
//
// Get returns the stored pointer itself, without copying, so that a hit
// allocates nothing. The value is shared by every caller that gets it: it
// must not be modified (copy it first, e.g. to fill in Token).
//
// Revocation is exact: every Delete and Clear advances a counter, Generation
// returns it, and Delete records each revoked key with the counter's value
// in a second LRU of the same size (a tombstone). Set refuses a key whose
// tombstone is newer than the caller's generation, and any generation older
// than the last Clear or than the newest tombstone the LRU has dropped, so a
// write that was in flight when its key was revoked never lands.
//
// A Memory is safe for concurrent use. It is not shared across processes.
type Memory struct {
	mu      sync.Mutex
	entries *simplelru.LRU[string, *CachedSession]
	revoked *simplelru.LRU[string, Generation] // key -> counter at its Delete
	counter Generation                         // advanced by Delete and Clear
	floor   Generation                         // a Set with an older generation is refused
}

var _ Strategy = (*Memory)(nil)

// NewMemory returns a Memory that holds at most size sessions. It returns an
// error if size is less than 1.
func NewMemory(size int) (*Memory, error) {
	if size < 1 {
		return nil, fmt.Errorf("sessioncache: memory cache size must be at least 1, got %d", size)
	}
	m := &Memory{}
	var err error
	if m.entries, err = simplelru.NewLRU[string, *CachedSession](size, nil); err != nil {
		return nil, fmt.Errorf("sessioncache: creating memory cache: %w", err)
	}
	// A dropped tombstone can no longer refuse its key, so every generation
	// up to its own is refused instead: exact, at the price of a few refused
	// writes after `size` revocations in the time one write was in flight.
	if m.revoked, err = simplelru.NewLRU(size, func(_ string, at Generation) { m.floor = max(m.floor, at) }); err != nil {
		return nil, fmt.Errorf("sessioncache: creating memory cache: %w", err)
	}
	return m, nil
}

// Generation returns the current value of the revocation counter.
func (m *Memory) Generation() Generation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counter
}

// Set stores a copy of s under key, replacing any entry there, and may evict
// the least recently used entry; it stores nothing if key was revoked, or the
// cache cleared, after gen was taken. s must not be nil.
func (m *Memory) Set(_ context.Context, key string, s *CachedSession, gen Generation) error {
	if s == nil {
		return errNilSession
	}
	c := cloneSession(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen < m.floor {
		return nil
	}
	if at, ok := m.revoked.Peek(key); ok && at > gen {
		return nil
	}
	m.entries.Add(key, c)
	return nil
}

// Get returns the session stored under key and marks it as recently used, or
// (nil, nil) if there is none. The returned value is shared and must not be
// modified. It never returns an error.
func (m *Memory) Get(_ context.Context, key string) (*CachedSession, error) {
	m.mu.Lock()
	s, _ := m.entries.Get(key)
	m.mu.Unlock()
	return s, nil
}

// Delete removes the entries under keys and revokes the keys (see Memory).
// It never returns an error.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counter++
	for _, k := range keys {
		m.entries.Remove(k)
		m.revoked.Add(k, m.counter)
	}
	return nil
}

// Clear removes every entry. It never returns an error.
func (m *Memory) Clear(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counter++
	m.floor = m.counter
	m.entries.Purge()
	m.revoked.Purge()
	return nil
}

// Len returns the number of entries in the cache.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries.Len()
}

// errNilSession is returned by Set when given a nil session.
var errNilSession = errors.New("sessioncache: Set of a nil session")

// cloneSession copies s deeply enough that no later change to s, its user or
// their slices and pointers is visible in the copy. Token is not copied. A nil
// slice stays nil and an empty one stays empty, as through JSON.
func cloneSession(s *CachedSession) *CachedSession {
	c := *s
	c.Token = ""
	if s.ActiveOrderID != nil {
		id := *s.ActiveOrderID
		c.ActiveOrderID = &id
	}
	if s.ActiveChannelID != nil {
		id := *s.ActiveChannelID
		c.ActiveChannelID = &id
	}
	if s.User != nil {
		u := *s.User // ChannelPermissions is immutable and shared, not copied
		c.User = &u
	}
	return &c
}
