package persisted

import (
	"container/list"
	"context"
	"sync"
)

// Memory is a Store in this process's memory: a least-recently-used cache
// bounded by the bytes of its entries (entryBytes), so that a client
// registering documents without end only evicts the oldest. Its methods
// never fail. The zero value is not usable: use NewMemory.
type Memory struct {
	mu     sync.Mutex
	budget int64
	used   int64
	order  *list.List // of *memoryEntry, most recently used first
	items  map[string]*list.Element
}

type memoryEntry struct {
	hash, doc string
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory holding at most maxBytes of entries;
// zero or less means DefaultCacheBytes.
func NewMemory(maxBytes int64) *Memory {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &Memory{budget: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, hash string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.items[hash]
	if !ok {
		return "", false, nil
	}
	m.order.MoveToFront(e)
	return e.Value.(*memoryEntry).doc, true, nil
}

// Add implements Store. A document longer than MaxDocumentBytes, or whose
// entry would take more than the whole budget, is not stored.
func (m *Memory) Add(_ context.Context, hash, doc string) error {
	size := entryBytes(hash, doc)
	if len(doc) > MaxDocumentBytes || size > m.budget {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[hash]; ok {
		m.order.MoveToFront(e)
		return nil
	}
	m.items[hash] = m.order.PushFront(&memoryEntry{hash: hash, doc: doc})
	m.used += size
	for m.used > m.budget {
		old := m.order.Remove(m.order.Back()).(*memoryEntry)
		delete(m.items, old.hash)
		m.used -= entryBytes(old.hash, old.doc)
	}
	return nil
}

// Stats returns the entries Memory holds and the bytes they count.
func (m *Memory) Stats() (entries int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items), m.used
}
