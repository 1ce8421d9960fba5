package session

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/stretchr/testify/require"
)

var limitT0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // on a 5-minute boundary

func TestGuestLimiterPerAddress(t *testing.T) {
	t.Parallel()
	l := newGuestLimiter(3, 5*time.Minute, 0, 5*time.Minute)
	now := limitT0.Add(time.Minute)
	for range 3 {
		_, ok := l.admitAddress("203.0.113.7", now)
		require.True(t, ok)
	}
	wait, ok := l.admitAddress("203.0.113.7", now)
	require.False(t, ok)
	require.Equal(t, 4*time.Minute, wait, "until the window ends")
	_, ok = l.admitAddress("203.0.113.8", now)
	require.True(t, ok, "another address has its own count")
	_, ok = l.admitAddress("", now)
	require.True(t, ok, "an in-process caller is not counted")

	// A refused attempt is not counted: the next window starts afresh.
	_, ok = l.admitAddress("203.0.113.7", limitT0.Add(5*time.Minute))
	require.True(t, ok)

	// IPv6 counts per /64; an IPv4-mapped address is its IPv4 address.
	for i := range 3 {
		_, ok := l.admitAddress(fmt.Sprintf("2001:db8:1:2::%x", i+1), now)
		require.True(t, ok)
	}
	_, ok = l.admitAddress("2001:db8:1:2:ffff::1", now)
	require.False(t, ok, "same /64")
	_, ok = l.admitAddress("2001:db8:1:3::1", now)
	require.True(t, ok, "another /64")
	_, ok = l.admitAddress("::ffff:203.0.113.7", now.Add(5*time.Minute))
	require.True(t, ok)
	require.Equal(t, netip.MustParseAddr("203.0.113.7"), ratelimit.AddressBlock(netip.MustParseAddr("::ffff:203.0.113.7")))
}

// The table holds at most guestAddressSlots addresses per window: past
// that, a new address is not counted (fail open to the instance budget),
// and the addresses already in it keep their counts.
func TestGuestLimiterTableBounded(t *testing.T) {
	t.Parallel()
	l := newGuestLimiter(1, 5*time.Minute, 0, 5*time.Minute)
	now := limitT0
	for i := range guestAddressSlots {
		_, ok := l.admitAddress(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), now)
		require.True(t, ok)
	}
	require.Len(t, l.counts, guestAddressSlots)
	_, ok := l.admitAddress("10.0.0.0", now)
	require.False(t, ok, "a counted address stays counted")
	for range 3 {
		_, ok = l.admitAddress("192.0.2.1", now)
		require.True(t, ok, "not counted: the table is full")
	}
	require.Len(t, l.counts, guestAddressSlots)
	_, ok = l.admitAddress("10.0.0.0", now.Add(5*time.Minute))
	require.True(t, ok, "a new window empties the table")
	require.Len(t, l.counts, 1)
}

// At most budget writes in any span of one TTL: the bound on the live
// cache-only keys of an instance.
func TestGuestLimiterInstanceBudget(t *testing.T) {
	t.Parallel()
	const budget = 100
	ttl := 100 * time.Second
	l := newGuestLimiter(0, 0, budget, ttl)
	var admitted []time.Time
	// One attempt every 100 ms for 10 TTLs, in bursts.
	for i := range 10000 {
		now := limitT0.Add(time.Duration(i) * 100 * time.Millisecond)
		if l.admitCacheWrite(now) {
			admitted = append(admitted, now)
		}
	}
	// No TTL-long span holds more than budget admitted writes.
	for i := range admitted {
		n := 0
		for j := i; j < len(admitted) && admitted[j].Sub(admitted[i]) < ttl; j++ {
			n++
		}
		require.LessOrEqual(t, n, budget, "span from %v", admitted[i])
	}
	require.Greater(t, len(admitted), 9*budget, "the budget is used, not starved")

	// After a long pause the whole budget is back.
	later := limitT0.Add(24 * time.Hour)
	for range budget {
		require.True(t, l.admitCacheWrite(later))
	}
	require.False(t, l.admitCacheWrite(later))
}

func TestGuestLimiterOff(t *testing.T) {
	t.Parallel()
	var l *guestLimiter = newGuestLimiter(0, 5*time.Minute, 0, time.Minute)
	require.Nil(t, l)
	_, ok := l.admitAddress("203.0.113.7", limitT0)
	require.True(t, ok)
	require.True(t, l.admitCacheWrite(limitT0))
}

// BenchmarkGuestLimiter is what a new guest session pays for both limits
// (one address, as the flood from one client; parallel, as the HTTP
// benchmark).
func BenchmarkGuestLimiter(b *testing.B) {
	for _, addr := range []string{"203.0.113.7", "2001:db8:1:2::7"} {
		b.Run(addr, func(b *testing.B) {
			l := newGuestLimiter(1<<30, 5*time.Minute, 1<<30, 5*time.Minute)
			now := limitT0
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, ok := l.admitAddress(addr, now); !ok || !l.admitCacheWrite(now) {
						b.Error("refused")
						return
					}
				}
			})
		})
	}
}
