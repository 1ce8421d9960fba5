package access

import (
	"sync"
	"time"

	"github.com/shopsession/sessionserver/service/session"
)

// unknownTokens remembers channel tokens that a fresh load of the channel
// table did not find, each for ttl, at most capacity of them and none
// longer than session.MaxTokenLength (a longer one is not remembered): when full,
// the oldest entry makes room. Tokens are client-controlled, so its memory
// is bounded whatever they send. Safe for concurrent use.
type unknownTokens struct {
	ttl time.Duration

	mu      sync.Mutex
	expires map[string]time.Time
	order   []string // ring of the remembered tokens, oldest at next
	next    int
}

func newUnknownTokens(capacity int, ttl time.Duration) *unknownTokens {
	return &unknownTokens{ttl: ttl, expires: make(map[string]time.Time, capacity), order: make([]string, 0, capacity)}
}

// has reports whether token is remembered as unknown at now.
func (u *unknownTokens) has(token string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	exp, ok := u.expires[token]
	return ok && now.Before(exp)
}

// add remembers token as unknown from now for the ttl, unless it is longer
// than session.MaxTokenLength.
func (u *unknownTokens) add(token string, now time.Time) {
	if len(token) > session.MaxTokenLength {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.expires[token]; ok {
		u.expires[token] = now.Add(u.ttl)
		return
	}
	if len(u.order) < cap(u.order) {
		u.order = append(u.order, token)
	} else {
		delete(u.expires, u.order[u.next])
		u.order[u.next] = token
		u.next = (u.next + 1) % len(u.order)
	}
	u.expires[token] = now.Add(u.ttl)
}

// len returns how many tokens are remembered (expired ones included until
// they make room).
func (u *unknownTokens) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.expires)
}
