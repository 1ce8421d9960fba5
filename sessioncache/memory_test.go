package sessioncache_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

func TestMemorySize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, -1} {
		m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: size})
		require.Error(t, err, "size %d", size)
		require.Nil(t, m)
	}
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1})
	require.NoError(t, err)
	require.NotNil(t, m)
}

func TestMemoryEviction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 3})
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
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
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

func TestMemoryKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
	require.NoError(t, err)
	lower := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	keys := []string{lower, strings.ToUpper(lower), lower[:63] + "g", lower[:63], "k", ""}
	for i, k := range keys {
		s := sessioncachetest.AnonymousSession()
		s.ID = entity.ID(i)
		require.NoError(t, m.Set(ctx, k, s, m.Generation()))
	}
	for i, k := range keys {
		got, err := m.Get(ctx, k)
		require.NoError(t, err)
		require.NotNil(t, got, "key %q", k)
		require.Equal(t, entity.ID(i), got.ID, "each key has its own entry: %q", k)
	}
}

func TestMemoryByteBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, o := range []sessioncache.MemoryOptions{{MaxEntries: 1, MaxBytes: -1}, {MaxEntries: 0, MaxBytes: 1000}} {
		m, err := sessioncache.NewMemoryWithOptions(o)
		require.Error(t, err, "%+v", o)
		require.Nil(t, m)
	}

	anonymous := sessioncachetest.AnonymousSession()
	full := sessioncachetest.FullSession()
	small, big := sessioncache.EntryBytes(anonymous), sessioncache.EntryBytes(full)
	require.Greater(t, big, small, "a user costs more than a guest")
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 100, MaxBytes: 3 * small})
	require.NoError(t, err)
	present := func(key string) bool {
		t.Helper()
		got, err := m.Get(ctx, key)
		require.NoError(t, err)
		return got != nil
	}

	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, m.Set(ctx, k, anonymous, m.Generation()))
	}
	require.Equal(t, 3, m.Len())
	require.Equal(t, 3*small, m.Bytes())

	// Get refreshes recency: "b" is now the least recently used.
	require.True(t, present("a"))
	require.NoError(t, m.Set(ctx, "d", anonymous, m.Generation()))
	require.Equal(t, 3, m.Len(), "the byte bound holds")
	require.False(t, present("b"), "least recently used entry is evicted")

	// Replacing an entry by a bigger one counts the difference, and evicts
	// the least recently used entries until the cache fits: order now
	// (oldest first) c, a, d.
	require.NoError(t, m.Set(ctx, "d", full, m.Generation()))
	require.LessOrEqual(t, m.Bytes(), 3*small)
	require.False(t, present("c"))
	if small+big > 3*small {
		require.False(t, present("a"))
		require.Equal(t, big, m.Bytes())
	} else {
		require.True(t, present("a"))
		require.Equal(t, small+big, m.Bytes())
	}
	require.True(t, present("d"), "the newest entry stays")

	// Delete and Clear give their bytes back.
	require.NoError(t, m.Delete(ctx, "d"))
	require.Equal(t, int64(m.Len())*small, m.Bytes())
	require.NoError(t, m.Set(ctx, "e", anonymous, m.Generation()))
	require.NoError(t, m.Clear(ctx))
	require.Zero(t, m.Bytes())
	require.Zero(t, m.Len())
}
