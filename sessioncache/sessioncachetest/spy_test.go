package sessioncachetest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// A Spy passes every call on unchanged, so in front of a strategy that
// conforms it conforms too.
func TestSpyConforms(t *testing.T) {
	t.Parallel()
	sessioncachetest.Exercise(t, func(t *testing.T) sessioncache.Strategy {
		m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1000})
		require.NoError(t, err)
		return sessioncachetest.NewSpy(m)
	})
}

// The same through a Spy in front of Noop: what it records does not depend
// on what the wrapped strategy keeps.
func TestSpyOnNoopConforms(t *testing.T) {
	t.Parallel()
	sessioncachetest.Exercise(t, func(*testing.T) sessioncache.Strategy {
		return sessioncachetest.NewSpy(sessioncache.Noop{})
	}, sessioncachetest.StoresNothing())
}

func TestSpyRecords(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 10})
	require.NoError(t, err)
	s := sessioncachetest.NewSpy(m)
	require.Same(t, m, s.Next())

	var hooked []string
	s.OnSet(func(key string) { hooked = append(hooked, key) })
	leaky := sessioncachetest.FullSession()
	leaky.Token = "raw"
	require.NoError(t, s.Set(ctx, "a", leaky, s.Generation()))
	require.NoError(t, s.Set(ctx, "b", sessioncachetest.AnonymousSession(), s.Generation()))
	require.NoError(t, s.Set(ctx, "a", sessioncachetest.FullSession(), s.Generation()))
	s.OnSet(nil)
	require.NoError(t, s.Set(ctx, "c", sessioncachetest.FullSession(), s.Generation()))
	_, err = s.Get(ctx, "a")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "b", "missing"))

	require.Equal(t, sessioncachetest.Calls{Sets: 4, Gets: 1, Deletes: 2}, s.Calls())
	require.Equal(t, []string{"a", "b", "a", "c"}, s.SetKeys())
	require.Equal(t, []string{"b", "missing"}, s.DeleteKeys())
	require.Equal(t, []string{"a", "b", "a"}, hooked, "OnSet(nil) removes the hook")
	require.Equal(t, 2, s.Held(), "a and c")
	require.Equal(t, 1, s.TokenLeaks())
	require.NotNil(t, s.Peek(ctx, "c"))
	require.Nil(t, s.Peek(ctx, "b"))
	require.Equal(t, 1, s.Calls().Gets, "Peek is not recorded")

	s.Reset()
	require.Equal(t, sessioncachetest.Calls{}, s.Calls())
	require.Empty(t, s.SetKeys())
	require.Empty(t, s.DeleteKeys())
	require.Zero(t, s.TokenLeaks())
	require.Equal(t, 2, s.Held(), "Reset keeps the entries")

	require.NoError(t, s.Clear(ctx))
	require.Equal(t, sessioncachetest.Calls{Clears: 1}, s.Calls())
	require.Zero(t, s.Held())
	require.Nil(t, s.Peek(ctx, "a"))
}
