package sessioncache_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// The conformance suite on the in-process strategies; the Redis strategy
// runs it in redis_test.go, the Spy in its own package.

func TestMemory(t *testing.T) {
	t.Parallel()
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1000})
		require.NoError(t, err)
		return m
	})
}

// TestMemoryBoundedInBytes runs the suite on a Memory whose byte bound, not
// its entry bound, is the one that binds (1 MiB: ~4,000 full sessions).
func TestMemoryBoundedInBytes(t *testing.T) {
	t.Parallel()
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1 << 30, MaxBytes: 1 << 20})
		require.NoError(t, err)
		return m
	})
}

func TestNoop(t *testing.T) {
	t.Parallel()
	t.Run("Value", func(t *testing.T) {
		t.Parallel()
		sessioncachetest.Exercise(t, func(*testing.T) sessioncache.Strategy { return sessioncache.Noop{} }, sessioncachetest.StoresNothing())
	})
	t.Run("Pointer", func(t *testing.T) {
		t.Parallel()
		sessioncachetest.Exercise(t, func(*testing.T) sessioncache.Strategy { return &sessioncache.Noop{} }, sessioncachetest.StoresNothing())
	})
	// StoresNothing lets a Set of nil fail or not; Noop's promise is that
	// nothing it does fails.
	require.NoError(t, sessioncache.Noop{}.Set(t.Context(), "k", nil, 0))
}

func TestPermissionsOn(t *testing.T) {
	t.Parallel()
	s := sessioncachetest.FullSession()
	require.Equal(t, []auth.Permission{auth.SuperAdmin, auth.Authenticated, auth.UpdateGlobalSettings}, s.PermissionsOn(1).List())
	require.Equal(t, []auth.Permission{"ReadCatalog", auth.Authenticated}, s.PermissionsOn(2).List())
	require.Nil(t, s.PermissionsOn(3).List(), "a channel the user has no role on")
	require.Nil(t, sessioncachetest.AnonymousSession().PermissionsOn(1).List(), "no user")
	require.Nil(t, (*sessioncache.CachedSession)(nil).PermissionsOn(1).List())
}

func TestStoresNothing(t *testing.T) {
	mem, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    sessioncache.Strategy
		want bool
	}{
		{sessioncache.Noop{}, true},
		{sessioncachetest.NewSpy(sessioncache.Noop{}), true},
		{sessioncachetest.NewSpy(sessioncachetest.NewSpy(sessioncache.Noop{})), true},
		{mem, false},
		{sessioncachetest.NewSpy(mem), false},
	} {
		if got := sessioncache.StoresNothing(c.s); got != c.want {
			t.Errorf("StoresNothing(%T) = %v, want %v", c.s, got, c.want)
		}
	}
}
