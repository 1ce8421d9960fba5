package sessioncache_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// memsizeEntries is how many entries a live-bytes measurement holds: enough
// that the heap's other noise (a few hundred KB) is well under 1% of it.
const memsizeEntries = 100_000

// memsizeKey is the i-th key as SessionService makes them: the hex SHA-256
// of a token, 64 characters.
func memsizeKey(i int) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])
}

// memsizeGuest builds a guest entry as SessionService does: every value
// freshly allocated, as scanned from the database.
func memsizeGuest(i int) *sessioncache.CachedSession {
	channel := entity.ID(1)
	return &sessioncache.CachedSession{
		CacheExpiry:     float64(time.Now().Unix()) + 300,
		ID:              entity.ID(i),
		Expires:         time.Now().Add(365 * 24 * time.Hour).UTC(),
		ActiveChannelID: &channel,
	}
}

// memsizeLoggedIn builds a superadmin-like entry as SessionService does:
// the guest's fields, a ~25-character identifier, strategy "native" and
// every assignable permission (91) on two channels, all freshly allocated.
func memsizeLoggedIn(i int) *sessioncache.CachedSession {
	s := memsizeGuest(i)
	s.AuthenticationStrategy = strings.Clone("native")
	s.User = &sessioncache.CachedUser{
		ID:              entity.ID(i),
		Identifier:      fmt.Sprintf("admin-%07d@example.com", i),
		Verified:        true,
		IsAdministrator: true,
		ChannelPermissions: sessioncache.NewPermissionSet([]sessioncache.ChannelPermissions{
			{ID: 1, Token: strings.Clone("__default_channel__"), Code: strings.Clone("__default_channel__"), Permissions: auth.Assignable()},
			{ID: 2, Token: strings.Clone("second-channel-token"), Code: strings.Clone("second"), Permissions: auth.Assignable()},
		}),
	}
	return s
}

// liveHeap returns the heap in use after two full collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// liveBytesPerEntry fills a new Memory with n entries from build and
// returns the live heap it holds per entry: the heap after the fill minus
// the heap before, over n. The caller's values and keys are garbage once
// Set returns, so only what the Memory keeps is counted. It also returns
// the Memory's own estimate per entry (Bytes / n).
func liveBytesPerEntry(tb testing.TB, n int, build func(int) *sessioncache.CachedSession) (live, estimate float64) {
	tb.Helper()
	ctx := context.Background()
	before := liveHeap()
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: n})
	require.NoError(tb, err)
	for i := range n {
		require.NoError(tb, m.Set(ctx, memsizeKey(i), build(i), m.Generation()))
	}
	after := liveHeap()
	require.Equal(tb, n, m.Len())
	runtime.KeepAlive(m)
	return float64(int64(after)-int64(before)) / float64(n), float64(m.Bytes()) / float64(n)
}

// TestMemoryLiveBytes bounds the live heap of a cached session in Memory.
// Not parallel: it reads the whole heap, so it runs while the package's
// parallel tests wait. The bounds are generous (the measurements are in
// docs/benchmarks.md, "Memory per cached session"); a regression that
// copies permission lists per entry again costs kilobytes and fails at once.
func TestMemoryLiveBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a cache with 100,000 entries")
	}
	for _, c := range []struct {
		name  string
		build func(int) *sessioncache.CachedSession
		max   float64
	}{
		{"logged-in", memsizeLoggedIn, 600},
		{"guest", memsizeGuest, 300},
	} {
		per, estimate := liveBytesPerEntry(t, memsizeEntries, c.build)
		t.Logf("%s: %.0f live bytes per entry, estimated %.0f", c.name, per, estimate)
		require.LessOrEqualf(t, per, c.max, "%s entry", c.name)
		// SESSION_CACHE_MAX_BYTES is only as good as the estimate.
		require.InEpsilonf(t, per, estimate, 0.25, "%s entry: EntryBytes is off", c.name)
	}
}

// BenchmarkMemoryLiveBytes reports the live heap per cached session
// (live-B/entry). Run it with -benchtime=1x:
//
//	go test ./sessioncache -run '^$' -bench MemoryLiveBytes -benchtime=1x
func BenchmarkMemoryLiveBytes(b *testing.B) {
	for _, c := range []struct {
		name  string
		build func(int) *sessioncache.CachedSession
	}{{"logged-in", memsizeLoggedIn}, {"guest", memsizeGuest}} {
		b.Run(c.name, func(b *testing.B) {
			var per, estimate float64
			for b.Loop() {
				per, estimate = liveBytesPerEntry(b, memsizeEntries, c.build)
			}
			b.ReportMetric(per, "live-B/entry")
			b.ReportMetric(estimate, "estimated-B/entry")
		})
	}
}
