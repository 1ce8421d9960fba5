package sessioncachetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// FullSession returns a new authenticated session with every field set,
// including a non-UTC, sub-microsecond Expires and a fractional
// CacheExpiry, the values a serializing strategy most easily gets wrong.
func FullSession() *sessioncache.CachedSession {
	order, channel := entity.ID(41), entity.ID(2)
	return &sessioncache.CachedSession{
		CacheExpiry:            1767323045.123456,
		ID:                     7,
		Expires:                time.Date(2026, 1, 9, 3, 4, 5, 123456789, time.FixedZone("CET", 3600)),
		ActiveOrderID:          &order,
		ActiveChannelID:        &channel,
		AuthenticationStrategy: "native",
		User: &sessioncache.CachedUser{
			ID:                 3,
			Identifier:         "admin@example.com",
			Verified:           true,
			IsAdministrator:    true,
			ChannelPermissions: sessioncache.NewPermissionSet(fullChannels()),
		},
	}
}

// fullChannels returns a new list of the channels of FullSession.
func fullChannels() []sessioncache.ChannelPermissions {
	return []sessioncache.ChannelPermissions{
		// Not in ID order: the order must be kept.
		{ID: 2, Token: "second-token", Code: "second", Permissions: []auth.Permission{auth.Permission("ReadCatalog"), auth.Authenticated}},
		{ID: 1, Token: "default-token", Code: "__default_channel__", Permissions: []auth.Permission{auth.SuperAdmin, auth.Authenticated, auth.UpdateGlobalSettings}},
	}
}

// AnonymousSession returns a new session without user or active IDs.
func AnonymousSession() *sessioncache.CachedSession {
	return &sessioncache.CachedSession{
		CacheExpiry: 1767323045,
		ID:          8,
		Expires:     time.Date(2026, 1, 9, 3, 4, 5, 0, time.UTC),
	}
}

// sampleSessions returns new sessions covering the nil and empty variants
// of every optional field, by name.
func sampleSessions() map[string]*sessioncache.CachedSession {
	noChannels := FullSession()
	noChannels.User.ChannelPermissions = sessioncache.PermissionSet{}
	emptyChannels := FullSession()
	emptyChannels.User.ChannelPermissions = sessioncache.NewPermissionSet([]sessioncache.ChannelPermissions{})
	emptyPerms := FullSession()
	channels := fullChannels()
	channels[0].Permissions = []auth.Permission{}
	channels[1].Permissions = nil
	emptyPerms.User.ChannelPermissions = sessioncache.NewPermissionSet(channels)
	onlyChannel := AnonymousSession()
	channel := entity.ID(5)
	onlyChannel.ActiveChannelID = &channel
	unverified := FullSession()
	unverified.User.Verified = false
	unverified.User.IsAdministrator = false
	unverified.ActiveOrderID = nil
	unverified.AuthenticationStrategy = ""
	return map[string]*sessioncache.CachedSession{
		"full":          FullSession(),
		"anonymous":     AnonymousSession(),
		"noChannels":    noChannels,
		"emptyChannels": emptyChannels,
		"emptyPerms":    emptyPerms,
		"onlyChannel":   onlyChannel,
		"unverified":    unverified,
	}
}

// RequireSessionEqual checks that got equals want, ignoring Token (which is
// never stored): Expires as an instant (time.Equal, since a round trip
// through JSON loses the location), everything else deeply, so a nil
// pointer or slice differs from a non-nil empty one.
func RequireSessionEqual(t testing.TB, want, got *sessioncache.CachedSession, msg string) {
	t.Helper()
	require.NotNil(t, got, msg)
	require.Truef(t, want.Expires.Equal(got.Expires), "%s: Expires = %v, want %v", msg, got.Expires, want.Expires)
	w, g := *want, *got
	w.Expires, g.Expires = time.Time{}, time.Time{}
	w.Token, g.Token = "", ""
	require.Equal(t, w, g, msg)
}
