// Package sessioncache holds the session cache: the Strategy interface that
// session.Service uses, the CachedSession it stores, the Codec that
// serializes it for a shared cache, and the strategies that pass one
// conformance suite, sessioncachetest.Exercise: Memory (an LRU), the Redis
// store and the Redis store with a Memory in front (package redisstore,
// kept apart so that these core types compile without go-redis) all of
// it, Noop, which stores nothing, the part of it that a strategy storing
// nothing can meet (see Noop).
//
// Keys are chosen by the caller. session.Service keys entries by the hex
// SHA-256 of the session token, so no strategy ever sees a raw token.
package sessioncache

import (
	"context"
	"time"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// Strategy stores CachedSessions by key.
//
// Contract, shared by every implementation and checked by the conformance
// suite (sessioncachetest.Exercise):
//   - Get of a missing key returns (nil, nil). An error is reserved for a
//     system failure (network, decoding); the caller treats it as a miss.
//   - Set replaces any entry under the key. The stored value is a snapshot:
//     later changes to the caller's value do not reach the cache. Token is
//     never stored. Set of a nil session is an error (Noop, which stores
//     nothing, accepts it).
//   - A value returned by Get must not be modified by the caller.
//   - Generation returns a stamp, without I/O. A caller takes it BEFORE it
//     reads from the database what it will cache, and passes it to Set.
//   - Delete revokes keys: their entries are gone, and a Set of one of them
//     with a Generation taken before that Delete returned stores nothing
//     readable, however late it arrives. This is what keeps a logout from
//     losing a race with a login's or a lookup's cache write that was
//     already in flight. A Set with a Generation taken after the Delete
//     returned is stored (a strategy shared between processes may refuse
//     it until it has seen the Delete, never store an older one): the
//     revoked key's next lookup caches it again. Delete of a missing key is
//     not an error.
//   - Clear makes every entry of this cache (and only of this cache)
//     unreadable, in constant time, and a Set with a Generation taken before
//     Clear returned stores nothing readable either (the data it carries may
//     predate the change that made the caller clear the cache).
type Strategy interface {
	Generation() Generation
	Set(ctx context.Context, key string, s *CachedSession, gen Generation) error
	Get(ctx context.Context, key string) (*CachedSession, error)
	Delete(ctx context.Context, keys ...string) error
	Clear(ctx context.Context) error
}

// Generation is a stamp taken before reading what will be cached; see
// Strategy. Its value means something only to the strategy that made it.
type Generation uint64

// Prober is implemented by strategies shared between server processes
// (Redis). A shared cache can miss writes that one process could not
// deliver, and can lose acknowledged writes when its master changes, so its
// user probes it in the background: Probe answers the identity of the
// server(s) holding the data (for Redis the run ids of the masters). A
// change of identity means acknowledged writes may have been lost.
type Prober interface {
	Probe(ctx context.Context) (identity string, err error)
}

// CachedSession is what the cache holds for a session, as Vendure's
// CachedSession. The raw token is not part of it: it is never serialized, and
// session.Service fills it in from the request when it hands a session out.
type CachedSession struct {
	// CacheExpiry is when this entry goes stale, in Unix seconds (fractional),
	// as Vendure's cacheExpiry.
	CacheExpiry            float64     `json:"cacheExpiry"`
	ID                     entity.ID   `json:"id"`
	Token                  string      `json:"-"`
	Expires                time.Time   `json:"expires"`
	ActiveOrderID          *entity.ID  `json:"activeOrderId,omitempty"`
	ActiveChannelID        *entity.ID  `json:"activeChannelId,omitempty"`
	AuthenticationStrategy string      `json:"authenticationStrategy,omitempty"`
	User                   *CachedUser `json:"user,omitempty"`
}

// CachedUser is the user of an authenticated session.
type CachedUser struct {
	ID         entity.ID `json:"id"`
	Identifier string    `json:"identifier"`
	Verified   bool      `json:"verified"`
	// IsAdministrator is true when the user has a (non-deleted) administrator
	// profile. Vendure reads this from the database on each admin `me`; we
	// cache it so an authenticated `me` does no query.
	IsAdministrator bool `json:"isAdministrator"`
	// ChannelPermissions is shared with every session of the same
	// permissions and cannot be modified; see PermissionSet.
	ChannelPermissions PermissionSet `json:"channelPermissions"`
}

// ChannelPermissions is the union of a user's role permissions on one
// channel, as a list its maker owns: what a PermissionSet is made from
// (NewPermissionSet) and what its Channels method returns.
type ChannelPermissions struct {
	ID          entity.ID         `json:"id"`
	Token       string            `json:"token"`
	Code        string            `json:"code"`
	Permissions []auth.Permission `json:"permissions"`
}

// IsStale reports whether the entry's cacheExpiry has passed at now.
func (s *CachedSession) IsStale(now time.Time) bool {
	return s.CacheExpiry < float64(now.UnixNano())/1e9
}

// Stored reports whether the session has a database row. A guest session
// that holds nothing yet (no user, no active order, the channel it was
// created on) lives in the cache only, with ID 0, until it first holds
// something; see session.Service.CreateAnonymousSession.
func (s *CachedSession) Stored() bool { return s.ID != 0 }

// IsExpired reports whether the session itself has expired at now.
func (s *CachedSession) IsExpired(now time.Time) bool { return !s.Expires.After(now) }

// PermissionsOn returns the user's permissions on the channel: none without
// a user or a role on that channel. It copies nothing.
func (s *CachedSession) PermissionsOn(channelID entity.ID) auth.Granted {
	if s == nil || s.User == nil {
		return auth.Granted{}
	}
	return s.User.ChannelPermissions.On(channelID)
}
