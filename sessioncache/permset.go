package sessioncache

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// PermissionSet is a user's permissions on each of its channels, as a
// CachedUser holds them: immutable, and interned, so every cached session
// with the same channels and permissions shares one value.
//
// Why: a superadmin holds 91 permissions on each channel, and a copy of
// them per cached session was ~3.4 KB of the ~3.7 KB a logged-in entry cost
// in the memory cache (measured by BenchmarkMemoryLiveBytes), while a shop
// has only a handful of distinct sets (one per combination of roles).
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
	json     []byte // the set's JSON, encoded once
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

// MarshalJSON implements json.Marshaler: the list of ChannelPermissions
// (with their compact permissions), or null for the nil set. The encoding
// is made once per interned set; the caller gets its own copy.
func (p PermissionSet) MarshalJSON() ([]byte, error) {
	if p.set == nil {
		return []byte("null"), nil
	}
	return bytes.Clone(p.set.json), nil
}

// UnmarshalJSON implements json.Unmarshaler. Sets already interned are
// found from the encoded form alone: the permission lists are decoded only
// for a set not in use yet, so a cache hit allocates no permission list.
func (p *PermissionSet) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*p = PermissionSet{}
		return nil
	}
	var raw []channelPermissionsJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*p = PermissionSet{}
		return nil
	}
	var buf [512]byte
	key := buf[:0]
	for _, c := range raw {
		key = appendChannelKey(key, c.ID, c.Token, c.Code)
		var err error
		if key, err = appendEncodedPermissionsKey(key, c.Permissions); err != nil {
			return err
		}
	}
	if set, ok := permissionSets.lookup(key); ok {
		*p = set
		return nil
	}
	channels := make([]Channel, len(raw))
	for i, c := range raw {
		channels[i] = Channel{id: c.ID, token: c.Token, code: c.Code}
		if c.Permissions == nil {
			continue
		}
		perms, err := decodePermissions([]byte(*c.Permissions))
		if err != nil {
			return err
		}
		channels[i].granted = auth.Grant(perms)
	}
	*p = permissionSets.insert(key, channels)
	return nil
}

// encodeSet is the JSON of channels, made once when a set is interned.
func encodeSet(channels []Channel) []byte {
	list := make([]ChannelPermissions, len(channels))
	for i, c := range channels {
		list[i] = ChannelPermissions{ID: c.id, Token: c.token, Code: c.code, Permissions: c.granted.List()}
	}
	b, err := json.Marshal(list)
	if err != nil { // cannot happen: strings, numbers and ChannelPermissions' own encoding
		panic(fmt.Sprintf("sessioncache: encoding a permission set: %v", err))
	}
	return b
}
