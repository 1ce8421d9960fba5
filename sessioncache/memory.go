package sessioncache

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"unique"
	"unsafe"
)

// Memory is an in-process Strategy: a bounded LRU cache of CachedSessions.
// It holds at most MaxEntries sessions and, when MaxBytes is set, at most
// about MaxBytes bytes of them (see EntryBytes); Set evicts the least
// recently used entries while it is over either bound (Get and Set both
// count as a use). Unlike Vendure's InMemorySessionCacheStrategy, whose
// eviction branch is dead code, it really stays within its bounds.
//
// Set stores a copy of the session (the struct, its user and the active
// order and channel IDs), so later changes to the caller's value do not
// reach the cache. The user's PermissionSet is immutable and interned, so
// it is shared, not copied: a logged-in entry costs ~300 bytes instead of
// the ~3.7 KB a private copy of a superadmin's permissions cost. Like the
// serializing strategies it does not keep Token: a session from Get always
// has an empty Token.
//
// Get returns the stored pointer itself, without copying, so that a hit
// allocates nothing. The value is shared by every caller that gets it: it
// must not be modified (copy it first, e.g. to fill in Token).
//
// Keys are stored as 32 bytes: a key of 64 lowercase hex digits (what
// session.Service uses, the SHA-256 of a token) as the bytes it spells, any
// other key as its SHA-256. 32 bytes inline instead of a 64-byte string and
// its header saves ~50 bytes per entry.
//
// Revocation is exact: every Delete and Clear advances a counter, Generation
// returns it, and Delete records each revoked key with the counter's value
// in a second LRU of MaxEntries keys (a tombstone). Set refuses a key whose
// tombstone is newer than the caller's generation, and any generation older
// than the last Clear or than the newest tombstone the LRU has dropped, so a
// write that was in flight when its key was revoked never lands.
//
// A Memory is safe for concurrent use. It is not shared across processes.
type Memory struct {
	mu         sync.Mutex
	entries    lru[CachedSession]
	revoked    lru[Generation] // key -> counter at its Delete
	maxEntries int
	maxBytes   int64
	bytes      int64      // sum of EntryBytes of the entries
	counter    Generation // advanced by Delete and Clear
	floor      Generation // a Set with an older generation is refused
}

var _ Strategy = (*Memory)(nil)

// MemoryOptions configures a Memory.
type MemoryOptions struct {
	// MaxEntries is the most sessions the cache holds. Must be at least 1.
	MaxEntries int
	// MaxBytes, when positive, bounds the sum of EntryBytes of the entries.
	// 0 means no bound in bytes; negative is an error.
	MaxBytes int64
}

// NewMemoryWithOptions returns a Memory bounded as o says.
func NewMemoryWithOptions(o MemoryOptions) (*Memory, error) {
	if o.MaxEntries < 1 {
		return nil, fmt.Errorf("sessioncache: memory cache size must be at least 1, got %d", o.MaxEntries)
	}
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("sessioncache: memory cache bytes must not be negative, got %d", o.MaxBytes)
	}
	m := &Memory{maxEntries: o.MaxEntries, maxBytes: o.MaxBytes}
	m.entries.init()
	m.revoked.init()
	return m, nil
}

// Generation returns the current value of the revocation counter.
func (m *Memory) Generation() Generation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counter
}

// Set stores a copy of s under key, replacing any entry there, and may evict
// the least recently used entries; it stores nothing if key was revoked, or
// the cache cleared, after gen was taken. s must not be nil.
func (m *Memory) Set(_ context.Context, key string, s *CachedSession, gen Generation) error {
	if s == nil {
		return ErrNilSession
	}
	n := &lruNode[CachedSession]{key: memoryKey(key), val: cloneSession(s)}
	size := EntryBytes(&n.val)
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen < m.floor {
		return nil
	}
	if t := m.revoked.peek(n.key); t != nil && t.val > gen {
		return nil
	}
	if old := m.entries.add(n); old != nil {
		m.bytes -= EntryBytes(&old.val)
	}
	m.bytes += size
	for m.entries.len() > m.maxEntries || (m.maxBytes > 0 && m.bytes > m.maxBytes) {
		old := m.entries.removeOldest()
		m.bytes -= EntryBytes(&old.val)
	}
	return nil
}

// Get returns the session stored under key and marks it as recently used, or
// (nil, nil) if there is none. The returned value is shared and must not be
// modified. It never returns an error.
func (m *Memory) Get(_ context.Context, key string) (*CachedSession, error) {
	k := memoryKey(key)
	m.mu.Lock()
	n := m.entries.get(k)
	m.mu.Unlock()
	if n == nil {
		return nil, nil
	}
	return &n.val, nil
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
	for _, key := range keys {
		k := memoryKey(key)
		if old := m.entries.remove(k); old != nil {
			m.bytes -= EntryBytes(&old.val)
		}
		m.revoked.add(&lruNode[Generation]{key: k, val: m.counter})
		if m.revoked.len() > m.maxEntries {
			// A dropped tombstone can no longer refuse its key, so every
			// generation up to its own is refused instead: exact, at the
			// price of a few refused writes after MaxEntries revocations
			// in the time one write was in flight.
			m.floor = max(m.floor, m.revoked.removeOldest().val)
		}
	}
	return nil
}

// Clear removes every entry. It never returns an error.
func (m *Memory) Clear(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counter++
	m.floor = m.counter
	m.entries.purge()
	m.revoked.purge()
	m.bytes = 0
	return nil
}

// Len returns the number of entries in the cache.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries.len()
}

// Bytes returns the sum of EntryBytes of the entries in the cache.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// entryOverhead is what every entry costs whatever it holds: its LRU node
// (the session inline, the 32-byte key, two links) and its map slot (key and
// pointer, over the map's load factor of at most 7/8, taken as 6/7).
const entryOverhead = int64(unsafe.Sizeof(lruNode[CachedSession]{})) + (32+8)*7/6

// EntryBytes estimates the live heap an entry for s costs in a Memory:
// entryOverhead, 8 bytes per active order or channel ID, and for a user its
// struct and identifier. It leaves out the user's PermissionSet, which is
// interned: one value shared by every session with the same permissions (a
// shop has a handful), so counting it per entry would be wrong by the number
// of sessions that share it, and counting it once would need a reference
// count per set. The authentication strategy's name is interned too (see
// cloneSession). Allocator size classes are not modelled: TestMemoryLiveBytes
// holds the estimate within 25% of the live heap.
func EntryBytes(s *CachedSession) int64 {
	n := entryOverhead
	if s.ActiveOrderID != nil {
		n += 8
	}
	if s.ActiveChannelID != nil {
		n += 8
	}
	if s.User != nil {
		n += int64(unsafe.Sizeof(CachedUser{})) + int64(len(s.User.Identifier))
	}
	return n
}

// memoryKey is the 32 bytes Memory stores for key: the bytes a key of 64
// lowercase hex digits spells, otherwise SHA-256 of the key (domain
// separated, so no other key maps to what a hex key spells unless SHA-256 is
// broken). Uppercase hex is hashed too, so two different keys never share an
// entry.
func memoryKey(key string) [32]byte {
	var k [32]byte
	if len(key) == 64 {
		var bad byte
		for i := range k {
			hi, lo := hexValue[key[2*i]], hexValue[key[2*i+1]]
			bad |= hi | lo
			k[i] = hi<<4 | lo&0x0f
		}
		if bad&0xf0 == 0 {
			return k
		}
	}
	return sha256.Sum256([]byte("sessioncache.Memory key\x00" + key))
}

// hexValue maps a lowercase hex digit to its value and any other byte to
// 0xff, so memoryKey decodes without a branch per digit.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// ErrNilSession is returned by a strategy's Set when given a nil session.
var ErrNilSession = errors.New("sessioncache: Set of a nil session")

// cloneSession copies s deeply enough that no later change to s, its user or
// their pointers is visible in the copy; the user's PermissionSet is
// immutable and shared. Token is not copied. The authentication strategy's
// name is interned: every logged-in session has one of a few names, and a
// copy of it per entry, as scanned from the database, cost 8 bytes each.
func cloneSession(s *CachedSession) CachedSession {
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
	if s.AuthenticationStrategy != "" {
		c.AuthenticationStrategy = unique.Make(s.AuthenticationStrategy).Value()
	}
	if s.User != nil {
		u := *s.User
		c.User = &u
	}
	return c
}
