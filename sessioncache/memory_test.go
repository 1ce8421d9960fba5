package sessioncache_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

func TestMemorySize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, -1} {
		m, err := sessioncache.NewMemory(size)
		require.Error(t, err, "size %d", size)
		require.Nil(t, m)
	}
	m, err := sessioncache.NewMemory(1)
	require.NoError(t, err)
	require.NotNil(t, m)
}

func TestMemoryEviction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := sessioncache.NewMemory(3)
	require.NoError(t, err)
	present := func(key string) bool {
		t.Helper()
		got, err := m.Get(ctx, key)
		require.NoError(t, err)
		return got != nil
	}
	anonymous := sessioncachetest.AnonymousSession()

	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, m.Set(ctx, k, anonymous, m.Generation()))
	}
	require.Equal(t, 3, m.Len())

	// Get refreshes recency: "a" is now the most recently used, "b" the least.
	require.True(t, present("a"))
	require.NoError(t, m.Set(ctx, "d", anonymous, m.Generation()))
	require.Equal(t, 3, m.Len(), "size is a hard bound")
	require.False(t, present("b"), "least recently used entry is evicted")
	require.True(t, present("a"))
	require.True(t, present("c"))
	require.True(t, present("d"))

	// Set of an existing key refreshes it too and does not evict.
	require.NoError(t, m.Set(ctx, "a", sessioncachetest.FullSession(), m.Generation()))
	require.Equal(t, 3, m.Len())
	// Order now (oldest first): c, d, a.
	require.NoError(t, m.Set(ctx, "e", anonymous, m.Generation()))
	require.False(t, present("c"))
	require.True(t, present("a"))

	for i := range 100 {
		require.NoError(t, m.Set(ctx, strconv.Itoa(i), anonymous, m.Generation()))
	}
	require.Equal(t, 3, m.Len())
	require.True(t, present("99"))
	require.False(t, present("96"))

	require.NoError(t, m.Delete(ctx, "99"))
	require.Equal(t, 2, m.Len())
	require.NoError(t, m.Clear(ctx))
	require.Equal(t, 0, m.Len())
}

// TestMemoryGetSharesValueWithoutAllocating is not parallel: AllocsPerRun
// does not allow it.
func TestMemoryGetSharesValueWithoutAllocating(t *testing.T) {
	ctx := context.Background()
	m, err := sessioncache.NewMemory(10)
	require.NoError(t, err)
	require.NoError(t, m.Set(ctx, "k", sessioncachetest.FullSession(), m.Generation()))
	first, err := m.Get(ctx, "k")
	require.NoError(t, err)
	second, err := m.Get(ctx, "k")
	require.NoError(t, err)
	require.Same(t, first, second, "Get returns the stored value, not a copy")

	allocs := testing.AllocsPerRun(100, func() {
		s, _ := m.Get(ctx, "k")
		if s == nil {
			panic("miss")
		}
	})
	require.Zero(t, allocs, "Get on a hit allocates")
}
