package sessioncache

import (
	"context"
	"errors"
	"fmt"
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
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
// A Memory is safe for concurrent use. It is not shared across processes.
type Memory struct {
	cache *lru.Cache[string, *CachedSession]
}

var _ Strategy = (*Memory)(nil)

// NewMemory returns a Memory that holds at most size sessions. It returns an
// error if size is less than 1.
func NewMemory(size int) (*Memory, error) {
	if size < 1 {
		return nil, fmt.Errorf("sessioncache: memory cache size must be at least 1, got %d", size)
	}
	c, err := lru.New[string, *CachedSession](size)
	if err != nil {
		return nil, fmt.Errorf("sessioncache: creating memory cache: %w", err)
	}
	return &Memory{cache: c}, nil
}

// Set stores a copy of s under key, replacing any entry there, and may evict
// the least recently used entry. s must not be nil.
func (m *Memory) Set(_ context.Context, key string, s *CachedSession) error {
	if s == nil {
		return errNilSession
	}
	m.cache.Add(key, cloneSession(s))
	return nil
}

// Get returns the session stored under key and marks it as recently used, or
// (nil, nil) if there is none. The returned value is shared and must not be
// modified. It never returns an error.
func (m *Memory) Get(_ context.Context, key string) (*CachedSession, error) {
	s, _ := m.cache.Get(key)
	return s, nil
}

// Delete removes the entry under key, if any. It never returns an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.cache.Remove(key)
	return nil
}

// Clear removes every entry. It never returns an error.
func (m *Memory) Clear(context.Context) error {
	m.cache.Purge()
	return nil
}

// Len returns the number of entries in the cache.
func (m *Memory) Len() int { return m.cache.Len() }

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
		u := *s.User
		u.ChannelPermissions = slices.Clone(s.User.ChannelPermissions)
		for i := range u.ChannelPermissions {
			u.ChannelPermissions[i].Permissions = slices.Clone(u.ChannelPermissions[i].Permissions)
		}
		c.User = &u
	}
	return &c
}
