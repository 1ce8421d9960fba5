package sessioncachetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Exercise checks the sessioncache.Strategy contract on strategies made by
// newStrategy, each case as a parallel subtest with a new, empty strategy
// of its own (so newStrategy must be safe to call from several goroutines;
// strategies sharing a server need a key prefix per call). It checks:
//   - Get of a missing key is (nil, nil); no call returns an error.
//   - Get returns what Set stored, for sessions with every optional field
//     nil, empty or set; Set replaces; Set of nil is an error.
//   - The stored value is a snapshot: changing the caller's value after Set
//     does not reach the cache, Set does not modify its argument, and Token
//     is never stored.
//   - Delete removes its keys and no others; Delete of a missing key or of
//     no key succeeds; Clear removes every entry.
//   - A Set with a Generation taken before a Delete of its key, or before a
//     Clear, stores nothing readable; other keys are not affected.
//   - A Set with a Generation taken after a Delete of its key is stored, and
//     a later Set with a Generation from before that Delete does not
//     replace it.
//   - 16 goroutines setting, getting and deleting at once see only values
//     that were set (run it with -race to check the locking too).
//
// A strategy that keeps nothing (sessioncache.Noop) passes with the
// StoresNothing option.
func Exercise(t *testing.T, newStrategy func(t *testing.T) sessioncache.Strategy, opts ...Option) {
	t.Helper()
	var x suite
	for _, o := range opts {
		o(&x)
	}
	cases := []struct {
		name string
		run  func(*testing.T, sessioncache.Strategy)
	}{
		{"GetMissing", x.getMissing},
		{"RoundTrip", x.roundTrip},
		{"TokenNotStored", x.tokenNotStored},
		{"SetReplaces", x.setReplaces},
		{"SetNil", x.setNil},
		{"Snapshot", x.snapshot},
		{"Delete", x.delete},
		{"DeleteMissing", x.deleteMissing},
		{"DeleteMany", x.deleteMany},
		{"Clear", x.clear},
		{"SetAfterDeleteWithOlderGeneration", x.setAfterDeleteWithOlderGeneration},
		{"SetAfterDeleteWithNewerGeneration", x.setAfterDeleteWithNewerGeneration},
		{"SetAfterClearWithOlderGeneration", x.setAfterClearWithOlderGeneration},
		{"Concurrent", x.concurrent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStrategy(t))
		})
	}
}

// An Option changes what Exercise expects of a strategy.
type Option func(*suite)

// StoresNothing is for a strategy that keeps nothing, as
// sessioncache.Noop: every case runs, and wherever the contract says Get
// returns what Set stored, Exercise requires a miss instead; a Set of nil
// may succeed, but must store nothing either. What such a strategy is
// checked for is the half of the contract it can meet: no call fails, Get
// never returns a session, so never one that was deleted, cleared or
// written with an old generation, and Set leaves its argument alone.
func StoresNothing() Option {
	return func(x *suite) { x.storesNothing = true }
}

// suite holds what Exercise expects; its methods are the cases.
type suite struct {
	storesNothing bool
}

// get reads key and requires that the read did not fail.
func get(t *testing.T, s sessioncache.Strategy, key string) *sessioncache.CachedSession {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	require.NoError(t, err, "Get(%q)", key)
	return got
}

// set writes v under key with the current generation and requires success.
func set(t *testing.T, s sessioncache.Strategy, key string, v *sessioncache.CachedSession) {
	t.Helper()
	require.NoError(t, s.Set(t.Context(), key, v, s.Generation()), "Set(%q)", key)
}

// requireStored checks that got is what a Set of want left readable: want
// itself, or a miss for a strategy that stores nothing.
func (x suite) requireStored(t *testing.T, want, got *sessioncache.CachedSession, msg string) {
	t.Helper()
	if x.storesNothing {
		require.Nil(t, got, "%s: a strategy that stores nothing returned a session", msg)
		return
	}
	RequireSessionEqual(t, want, got, msg)
}

func (x suite) getMissing(t *testing.T, s sessioncache.Strategy) {
	require.Nil(t, get(t, s, "missing"))
}

func (x suite) roundTrip(t *testing.T, s sessioncache.Strategy) {
	samples := sampleSessions()
	for name, v := range samples {
		set(t, s, name, v)
	}
	for name := range samples {
		x.requireStored(t, sampleSessions()[name], get(t, s, name), name)
	}
}

func (x suite) tokenNotStored(t *testing.T, s sessioncache.Strategy) {
	v := FullSession()
	v.Token = "raw-token"
	set(t, s, "k", v)
	got := get(t, s, "k")
	x.requireStored(t, FullSession(), got, "session set with a token")
	if got != nil {
		require.Empty(t, got.Token)
	}
	require.Equal(t, "raw-token", v.Token, "Set must not modify its argument")
}

func (x suite) setReplaces(t *testing.T, s sessioncache.Strategy) {
	set(t, s, "k", FullSession())
	set(t, s, "k", AnonymousSession())
	x.requireStored(t, AnonymousSession(), get(t, s, "k"), "replaced")
}

func (x suite) setNil(t *testing.T, s sessioncache.Strategy) {
	err := s.Set(t.Context(), "k", nil, s.Generation())
	if x.storesNothing {
		require.Nil(t, get(t, s, "k"), "Set of nil stored something")
		return
	}
	require.Error(t, err)
}

func (x suite) snapshot(t *testing.T, s sessioncache.Strategy) {
	v := FullSession()
	set(t, s, "k", v)

	// Change everything the caller can reach, in place.
	v.CacheExpiry++
	v.ID++
	v.Expires = v.Expires.Add(time.Hour)
	*v.ActiveOrderID = 999
	*v.ActiveChannelID = 999
	v.AuthenticationStrategy = "changed"
	v.User.ID = 999
	v.User.Identifier = "changed"
	v.User.Verified = false
	v.User.IsAdministrator = false
	// The permission set itself cannot be changed (see PermissionSet), only
	// replaced; and what its Channels returns is the caller's own copy.
	channels := v.User.ChannelPermissions.Channels()
	channels[0].Code = "changed"
	channels[0].Token = "changed"
	channels[0].Permissions[0] = auth.Owner
	channels[1].Permissions = append(channels[1].Permissions, auth.Owner)
	v.User.ChannelPermissions = sessioncache.NewPermissionSet(append(channels, sessioncache.ChannelPermissions{ID: 999}))

	x.requireStored(t, FullSession(), get(t, s, "k"), "after changing the caller's value")
}
