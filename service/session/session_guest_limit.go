package session

import (
	"net/netip"
	"sync"
	"time"

	"github.com/shopsession/sessionserver/service/ratelimit"
)

// Two bounds keep a flood of new guest sessions from growing the cache (and,
// with eager guests, the session table) without limit.
//
//   - Per client address: at most GuestAddressLimit new guest sessions per
//     GuestAddressWindow (fixed windows aligned on the clock, so at most
//     twice that across a window boundary). A request that asks for a new
//     guest session past it is refused with *outcome.TooManyRequestsError, which says
//     when the window ends; sessions the client already holds keep working,
//     and so does every request that needs no new session. IPv6 addresses
//     count per /64 (what one subscriber is usually given), IPv4 per
//     address. The counts live in memory, one instance each, in a table of
//     at most guestAddressSlots addresses per window: once it is full, an
//     address not in it yet is not counted (it is still bounded by the
//     instance budget below), so a flood from many addresses can neither
//     grow the table nor make it refuse an address that sent nothing.
//   - Per instance: at most GuestCacheLimit cache writes of new guest
//     sessions (cache-only or not) and of renewals of cache-only ones (see
//     session_guest.go) in any CacheTTL. Such an entry in Redis expires
//     CacheTTL after its last write, so one instance never has more than
//     GuestCacheLimit of them alive in Redis (n instances: n ×
//     GuestCacheLimit). A new guest past the budget is not cached: a lazy
//     one gets a token that is neither cached nor stored, which works for
//     the request that made it (an addItemToOrder in it stores the session
//     as usual) and, holding nothing, is simply replaced by the next
//     request; the same holds when the cache is failing (a lazy guest then
//     gets a row only within the budget, so a slow cache does not turn a
//     flood into rows). A renewal past the budget is skipped: the entry
//     lives until its key expires, then the guest starts over, losing
//     nothing.

// guestAddressSlots is how many client addresses the per-address count
// tracks in one window (a few MB at most).
const guestAddressSlots = 1 << 16

// guestBudgetSlices is how many slices the instance budget's window
// (CacheTTL) is cut into: a write is admitted when the writes of the
// current slice and of the guestBudgetSlices before it (a span at least
// CacheTTL long, ending now) are fewer than the budget.
const guestBudgetSlices = 10

// guestLimiter counts new guest sessions per client address and cache-only
// guest writes per instance. A nil *guestLimiter limits nothing. It is safe
// for concurrent use.
type guestLimiter struct {
	perAddress int           // 0: no per-address limit
	window     time.Duration // of the per-address count

	mu      sync.Mutex
	current int64 // the per-address window's number (Unix time / window)
	counts  map[netip.Addr]int32

	budget int           // 0: no instance budget
	slice  time.Duration // CacheTTL / guestBudgetSlices

	budgetMu sync.Mutex
	ring     [guestBudgetSlices + 1]int64 // writes per slice, by slice number mod the length
	ringAt   int64                        // the newest slice number the ring holds
	inRing   int64                        // the sum of ring
}

// newGuestLimiter returns a limiter, or nil when both limits are off.
func newGuestLimiter(perAddress int, window time.Duration, budget int, cacheTTL time.Duration) *guestLimiter {
	if perAddress <= 0 && budget <= 0 {
		return nil
	}
	l := &guestLimiter{budget: max(budget, 0), slice: max(cacheTTL/guestBudgetSlices, time.Millisecond)}
	if perAddress > 0 && window > 0 {
		l.perAddress, l.window = perAddress, window
	}
	return l
}

// admitAddress counts a new guest session for client at now, or returns
// how long until the client's window ends when it has had its share. An
// empty or unreadable client (an in-process caller) is not counted.
func (l *guestLimiter) admitAddress(client string, now time.Time) (wait time.Duration, ok bool) {
	if l == nil || l.perAddress == 0 || client == "" {
		return 0, true
	}
	addr, err := netip.ParseAddr(client)
	if err != nil {
		return 0, true
	}
	addr = ratelimit.AddressBlock(addr)
	w := now.UnixNano() / int64(l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	if w != l.current || l.counts == nil {
		// A new window: the old counts go (one map per window, so the
		// table never holds more than guestAddressSlots addresses).
		l.current, l.counts = w, make(map[netip.Addr]int32)
	}
	n, seen := l.counts[addr]
	switch {
	case int(n) >= l.perAddress:
		end := time.Unix(0, (w+1)*int64(l.window))
		return max(end.Sub(now), time.Second).Round(time.Second), false
	case seen || len(l.counts) < guestAddressSlots:
		l.counts[addr] = n + 1
	}
	return 0, true
}

// admitCacheWrite counts one write of a cache-only guest entry at now, or
// reports false when the instance has made budget of them in the last
// CacheTTL.
func (l *guestLimiter) admitCacheWrite(now time.Time) bool {
	if l == nil || l.budget == 0 {
		return true
	}
	s := now.UnixNano() / int64(l.slice)
	l.budgetMu.Lock()
	defer l.budgetMu.Unlock()
	if s > l.ringAt {
		// Clear the slices that ended since (all of them after a long
		// pause).
		for i := l.ringAt + 1; i <= s && i <= l.ringAt+int64(len(l.ring)); i++ {
			j := i % int64(len(l.ring))
			l.inRing -= l.ring[j]
			l.ring[j] = 0
		}
		l.ringAt = s
	}
	if l.inRing >= int64(l.budget) {
		return false
	}
	// A clock that went back counts in the newest slice.
	l.ring[l.ringAt%int64(len(l.ring))]++
	l.inRing++
	return true
}
