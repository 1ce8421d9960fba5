package session

import (
	"sync"
	"time"
)

// negativeCache remembers, per instance, the hashes of tokens that no
// session has, for ttl each, so a token sent again and again (a client
// holding a token that was revoked, or a flood of made-up ones) costs one
// database read per ttl instead of one per request. It holds at most size
// hashes; beyond that the oldest is forgotten (every entry lives ttl, so
// the oldest is also the first to expire).
//
// Why it cannot hide a session: a token is made at random by the server
// and first reaches a client when the session that holds it is committed
// (and cached), so no lookup can find a token unknown before its session
// exists; a session that ends never comes back. Only answers the cache
// gave are remembered (see GetSessionFromToken): while the cache is down a
// cache-only guest is not found in the database, and remembering that would
// outlast the outage.
type negativeCache struct {
	ttl  time.Duration
	size int

	mu      sync.Mutex
	expires map[string]time.Time
	order   []string // a ring of the keys in insertion order
	next    int      // where the next key goes in order
}

// newNegativeCache returns a negative cache, or nil (off) when size is 0.
func newNegativeCache(size int, ttl time.Duration) *negativeCache {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	return &negativeCache{ttl: ttl, size: size, expires: make(map[string]time.Time, min(size, 1024))}
}

// has reports whether key is remembered as unknown at now.
func (n *negativeCache) has(key string, now time.Time) bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	exp, ok := n.expires[key]
	return ok && now.Before(exp)
}

// add remembers key as unknown from now.
func (n *negativeCache) add(key string, now time.Time) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.expires[key]; ok {
		n.expires[key] = now.Add(n.ttl)
		return
	}
	if len(n.order) < n.size {
		n.order = append(n.order, key)
	} else {
		delete(n.expires, n.order[n.next])
		n.order[n.next] = key
		n.next = (n.next + 1) % n.size
	}
	n.expires[key] = now.Add(n.ttl)
}

// len is how many keys are remembered (expired ones included until they
// are overwritten).
func (n *negativeCache) len() int {
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.expires)
}
