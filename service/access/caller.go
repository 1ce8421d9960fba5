package access

import (
	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/audit"
)

// The permissions the channel and role operations check, by Vendure's
// names (auth.All lists every one).
const (
	permReadSettings        auth.Permission = "ReadSettings"
	permReadChannel         auth.Permission = "ReadChannel"
	permUpdateChannel       auth.Permission = "UpdateChannel"
	permDeleteChannel       auth.Permission = "DeleteChannel"
	permCreateAdministrator auth.Permission = "CreateAdministrator"
)

// checkedPermissions lists the constants above.
var checkedPermissions = []auth.Permission{
	permReadSettings, permReadChannel, permUpdateChannel, permDeleteChannel, permCreateAdministrator,
}

// Grants are the permissions someone holds on each channel.
// *sessioncache.CachedSession is one.
type Grants interface {
	PermissionsOn(channelID entity.ID) auth.Granted
}

// Caller is the administrator on whose behalf an ...As method acts (the
// Admin API's operations). The methods without As are trusted: they check
// no caller's permissions, for the seed, the app and tests.
type Caller struct {
	// Grants are the caller's permissions: its session's. Every committed
	// change to a channel or a role clears the session cache, so a session
	// read for the request holds the current ones. Nil holds none.
	Grants Grants
	// ChannelID is the channel of the request.
	ChannelID entity.ID
	// Actor is who the caller is in the audit log entries of its changes.
	Actor audit.Actor
	// SessionID is the caller's session (0 for none): the one a password
	// change the caller makes to its own account keeps.
	SessionID entity.ID
}

// on returns the caller's permissions on a channel.
func (c Caller) on(channelID entity.ID) auth.Granted {
	if c.Grants == nil {
		return auth.Granted{}
	}
	return c.Grants.PermissionsOn(channelID)
}

// holdsAll reports whether the caller holds every one of perms on a channel.
func (c Caller) holdsAll(channelID entity.ID, perms []auth.Permission) bool {
	granted := c.on(channelID)
	for _, p := range perms {
		if !granted.Has(p) {
			return false
		}
	}
	return true
}

// holdsAny reports whether the caller holds at least one of perms on a
// channel.
func (c Caller) holdsAny(channelID entity.ID, perms ...auth.Permission) bool {
	return auth.AnyOf(c.on(channelID), perms)
}
