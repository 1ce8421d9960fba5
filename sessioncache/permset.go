package sessioncache

import (
	"encoding/json"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// PermissionSet is a user's permissions on each of its channels, as a
// CachedUser holds them: immutable, and interned, so every cached session
// with the same channels and permissions shares one value.
//
// Why: a superadmin holds every permission on each channel, and a copy of
// them per cached session would be most of what a logged-in entry costs in
// the memory cache (BenchmarkMemoryLiveBytes), while a shop has only a
// handful of distinct sets (one per combination of roles).
// Sharing is safe only if no holder can change the value, so nothing in it
// is reachable for writing: channels are read through *Channel's methods,
// permissions through auth.Granted, and Channels returns a copy.
//
// The zero PermissionSet is the nil set (a user without channel
// permissions; JSON null); NewPermissionSet of an empty list is a distinct,
// empty one (JSON []), as a nil and an empty slice were before. Two sets
// with the same content made while either is in use are the same pointer,
// so == compares them in constant time.
type PermissionSet struct {
	set *permissionSet
}

// permissionSet is the shared, never modified value behind a PermissionSet.
type permissionSet struct {
	channels []Channel
	compact  []byte // the set in DefaultCodec's form, encoded once
}

// Channel is one channel of a PermissionSet, read-only. The GraphQL type
// CurrentUserChannel binds to it.
type Channel struct {
	id      entity.ID
	token   string
	code    string
	granted auth.Granted
}

// ID returns the channel's ID.
func (c *Channel) ID() entity.ID { return c.id }

// Token returns the channel's token.
func (c *Channel) Token() string { return c.token }

// Code returns the channel's code.
func (c *Channel) Code() string { return c.code }

// Granted returns the user's permissions on the channel.
func (c *Channel) Granted() auth.Granted { return c.granted }

// Permissions returns a copy of the user's permissions on the channel, in
// order (for GraphQL; a permission check uses Granted, which copies nothing).
func (c *Channel) Permissions() []auth.Permission { return c.granted.List() }

// NewPermissionSet returns the interned set with the content of channels,
// in their order. It keeps nothing of channels: changing them afterwards
// does not change the set. A nil list gives the zero (nil) set.
func NewPermissionSet(channels []ChannelPermissions) PermissionSet {
	if channels == nil {
		return PermissionSet{}
	}
	var buf [512]byte
	key := buf[:0]
	for _, c := range channels {
		key = appendChannelKey(key, c.ID, c.Token, c.Code)
		key = appendPermissionsKey(key, c.Permissions)
	}
	if set, ok := permissionSets.lookup(key); ok {
		return set
	}
	return permissionSets.insert(key, newChannels(channels))
}

// newChannels copies channels into the shared, read-only form.
func newChannels(channels []ChannelPermissions) []Channel {
	out := make([]Channel, len(channels))
	for i, c := range channels {
		out[i] = Channel{id: c.ID, token: c.Token, code: c.Code, granted: auth.Grant(c.Permissions)}
	}
	return out
}

// Len returns the number of channels.
func (p PermissionSet) Len() int {
	if p.set == nil {
		return 0
	}
	return len(p.set.channels)
}

// At returns the i-th channel, shared and read-only. It panics if i is out
// of range, as indexing a slice does.
func (p PermissionSet) At(i int) *Channel { return &p.set.channels[i] }

// On returns the permissions on the channel with the given ID; none (the
// zero Granted) if the set has no such channel.
func (p PermissionSet) On(channelID entity.ID) auth.Granted {
	for i := range p.Len() {
		if c := &p.set.channels[i]; c.id == channelID {
			return c.granted
		}
	}
	return auth.Granted{}
}

// Channels returns a copy of the set as a list that the caller owns: nil for
// the nil set.
func (p PermissionSet) Channels() []ChannelPermissions {
	if p.set == nil {
		return nil
	}
	out := make([]ChannelPermissions, len(p.set.channels))
	for i, c := range p.set.channels {
		out[i] = ChannelPermissions{ID: c.id, Token: c.token, Code: c.code, Permissions: c.granted.List()}
	}
	return out
}

// MarshalJSON implements json.Marshaler: the list of ChannelPermissions,
// each permission by name, or null for the nil set. It is the
// self-describing form, for any reader; a cache stores the compact form of
// its Codec instead.
func (p PermissionSet) MarshalJSON() ([]byte, error) {
	return json.Marshal(p.Channels())
}

// UnmarshalJSON implements json.Unmarshaler: it decodes what MarshalJSON
// wrote into the interned set of that content.
func (p *PermissionSet) UnmarshalJSON(data []byte) error {
	var list []ChannelPermissions
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*p = NewPermissionSet(list)
	return nil
}
