package throttle

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is Memory's bound on keys unless MemoryOptions says
// otherwise: a key with a full log of 100 events takes about 1 KB, a key
// with a few events about 150 bytes.
const DefaultMaxKeys = 100_000

// MemoryOptions configures a Memory. The zero value uses every default.
type MemoryOptions struct {
	// MaxKeys bounds the keys held; beyond it the least recently used key
	// is dropped (and with it its count). Defaults to DefaultMaxKeys.
	MaxKeys int
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
}

// Memory is a Limiter in this process's memory. It is exact and atomic
// within the process, and knows nothing of other instances.
//
// Its memory is bounded: at most MaxKeys keys, each with at most its rule's
// Limit event times. A flood of distinct keys evicts the least recently
// used ones, whose counts are then forgotten: a key flooded out of the map
// starts afresh. A key whose events have all left the window is dropped
// when next touched, and is the first to go when room is needed (it is
// the least recently used).
type Memory struct {
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element // of *memEntry
	lru  list.List                // front: most recently used
}

type memEntry struct {
	key    string
	events []int64 // unix nanoseconds, oldest first, at most Limit
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{now: opts.NowFunc, maxKeys: opts.MaxKeys, keys: make(map[string]*list.Element)}
	if m.now == nil {
		m.now = time.Now
	}
	if m.maxKeys <= 0 {
		m.maxKeys = DefaultMaxKeys
	}
	return m
}

// Len returns the number of keys held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// Check implements Limiter.
func (m *Memory) Check(_ context.Context, rule Rule, key string) (Decision, error) {
	return m.do(rule, key, modeCheck), nil
}

// Add implements Limiter.
func (m *Memory) Add(_ context.Context, rule Rule, key string) error {
	m.do(rule, key, modeAdd)
	return nil
}

// Take implements Limiter.
func (m *Memory) Take(_ context.Context, rule Rule, key string) (Decision, error) {
	return m.do(rule, key, modeTake), nil
}

// Reset implements Limiter.
func (m *Memory) Reset(_ context.Context, rule Rule, key string) error {
	k := storedKey(rule, key)
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.keys[k]; ok {
		m.lru.Remove(el)
		delete(m.keys, k)
	}
	return nil
}

// The three ways of touching a key, shared with the Redis script.
const (
	modeCheck = "check"
	modeAdd   = "add"
	modeTake  = "take"
)

func (m *Memory) do(rule Rule, key, mode string) Decision {
	if rule.Off() {
		return Decision{Allowed: true}
	}
	k := storedKey(rule, key)
	now := m.now().UnixNano()
	window := rule.Window.Nanoseconds()

	m.mu.Lock()
	defer m.mu.Unlock()
	var e *memEntry
	if el, ok := m.keys[k]; ok {
		e = el.Value.(*memEntry)
		m.lru.MoveToFront(el)
	}
	var events []int64
	if e != nil {
		// Drop the events that left the window (an event exactly one
		// window old has left it).
		i := 0
		for i < len(e.events) && e.events[i] <= now-window {
			i++
		}
		events = e.events[i:]
	}
	allowed := len(events) < rule.Limit
	if mode == modeAdd || (mode == modeTake && allowed) {
		if len(events) >= rule.Limit {
			events = events[len(events)-rule.Limit+1:]
		}
		events = append(events, now)
		if e == nil {
			e = &memEntry{key: k}
			m.keys[k] = m.lru.PushFront(e)
			m.evict()
		}
	}
	switch {
	case e == nil:
	case len(events) == 0:
		m.lru.Remove(m.keys[k])
		delete(m.keys, k)
	default:
		// Copy when the log was trimmed from the front, so the backing
		// array does not keep growing.
		if cap(events) > 2*rule.Limit {
			events = append(make([]int64, 0, rule.Limit), events...)
		}
		e.events = events
	}
	if allowed {
		return Decision{Allowed: true}
	}
	return Decision{RetryAfter: time.Duration(events[0] + window - now)}
}

// evict drops least recently used keys beyond maxKeys. m.mu is held.
func (m *Memory) evict() {
	for len(m.keys) > m.maxKeys {
		el := m.lru.Back()
		m.lru.Remove(el)
		delete(m.keys, el.Value.(*memEntry).key)
	}
}
