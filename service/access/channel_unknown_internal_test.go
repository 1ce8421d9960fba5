package access

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/service/session"
	"github.com/stretchr/testify/require"
)

// Client-controlled tokens cannot grow the memory of unknown tokens beyond
// its capacity, nor hold a token longer than a real one: the oldest make
// room. An entry lasts its ttl.
func TestUnknownTokensBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := newUnknownTokens(3, 5*time.Second)
	for i := range 100_000 {
		u.add("tok-"+strconv.Itoa(i), now)
	}
	require.Equal(t, 3, u.len())
	require.True(t, u.has("tok-99999", now))
	require.True(t, u.has("tok-99997", now))
	require.False(t, u.has("tok-99996", now), "made room")
	require.False(t, u.has("tok-99999", now.Add(5*time.Second)), "expired")

	u.add("tok-99997", now.Add(4*time.Second))
	require.True(t, u.has("tok-99997", now.Add(8*time.Second)), "refreshed")
	require.Equal(t, 3, u.len())

	long := strings.Repeat("x", session.MaxTokenLength+1)
	u.add(long, now)
	require.False(t, u.has(long, now), "a token longer than any real one is not kept")
	require.True(t, u.has("tok-99997", now), "nor does it make room")
}
