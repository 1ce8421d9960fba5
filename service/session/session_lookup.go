package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// GetSessionFromToken is Vendure's getSessionFromToken: it returns the
// session for a token, or outcome.ErrNotFound.
//
// A fresh, unexpired cache entry is returned as is: no database access (a
// cache-only guest entry is renewed instead of going stale: see
// session_guest.go). On a miss, a stale entry or an expired one, the
// session is read with one indexed query (with bound parameters: see
// sessionQueries); an expired, invalidated or deleted-user session is not
// found (and its stale cache entry is evicted, unlike Vendure). A found
// session whose expiry is less than half of SessionDuration away is extended
// (sliding expiry), then cached with a new cacheExpiry.
//
// Unlike Vendure, a token the database does not know is remembered for a
// while (negativeCache: it is then not found without a read), and
// concurrent lookups of one token the cache does not answer share one
// database read (readShared).
//
// Each call is passed to Config.Metrics, if any, with its LookupOutcome and
// duration (on the service's clock).
func (s *Service) GetSessionFromToken(ctx context.Context, token string) (*sessioncache.CachedSession, error) {
	now := s.now()
	cs, o, err := s.lookup(ctx, token, now)
	if s.metrics != nil {
		s.metrics.SessionLookup(o, s.now().Sub(now))
	}
	return cs, err
}

// lookup is GetSessionFromToken at now, which also returns what it did.
func (s *Service) lookup(ctx context.Context, token string, now time.Time) (*sessioncache.CachedSession, LookupOutcome, error) {
	if token == "" || len(token) > MaxTokenLength {
		return nil, LookupNotFound, outcome.ErrNotFound
	}
	key := HashToken(token)
	// answered: a miss is the cache's answer, not its failure.
	cached, answered := s.cache.lookup(ctx, key)
	if cached != nil && !cached.IsExpired(now) {
		if cached.Stored() && !cached.IsStale(now) && !s.mayBeIdle(cached, now) {
			s.stats.hits.Add(1)
			s.markUsed(cached, now)
			return withToken(cached, token), LookupCacheHit, nil
		}
		if !cached.Stored() && !s.guestDue(cached, now) {
			s.stats.hits.Add(1)
			return withToken(cached, token), LookupCacheHit, nil // a cache-only guest (session_guest.go)
		}
	}
	if cached == nil && s.negative.has(key, now) {
		s.stats.negative.Add(1)
		return nil, LookupNegative, outcome.ErrNotFound
	}
	cs, gen, err := s.readShared(ctx, key)
	if errors.Is(err, outcome.ErrNotFound) {
		if cached != nil && !cached.Stored() && !cached.IsExpired(now) && !s.cachedGuestIdle(cached, now) {
			return s.renewGuest(ctx, key, token, cached, gen), LookupStale, nil
		}
		o := notFoundOutcome(err)
		if cached != nil && !cached.Stored() {
			// A cache-only guest has no row to tell why.
			o = LookupIdle
			if cached.IsExpired(now) {
				o = LookupExpired
			}
		}
		if cached != nil {
			s.cache.delete(ctx, key)
		}
		if answered {
			s.negative.add(key, now)
		}
		return nil, o, outcome.ErrNotFound
	}
	if err != nil {
		return nil, LookupError, err
	}
	s.cache.set(ctx, key, cs, gen)
	s.markUsed(cs, now)
	if cached != nil {
		return withToken(cs, token), LookupStale, nil
	}
	return withToken(cs, token), LookupCacheMiss, nil
}

// mayBeIdle reports whether a cached logged-in session may have been idle
// for IdleTimeout at now, so that only the database can tell: it was read
// from the database (and, being found, used) CacheTTL before its
// cacheExpiry, and nothing this instance holds says it was used since.
// Such an entry is treated as stale.
func (s *Service) mayBeIdle(cs *sessioncache.CachedSession, now time.Time) bool {
	if s.idle <= 0 || cs.User == nil {
		return false
	}
	readAt := time.Unix(0, int64(cs.CacheExpiry*1e9)).Add(-s.cacheTTL)
	return !now.Before(readAt.Add(s.idle))
}

// sharedRead is one database read of a session for every concurrent
// lookup of its token: the session and the cache generation taken before
// the read.
type sharedRead struct {
	cs  *sessioncache.CachedSession
	gen sessioncache.Generation
}

// readShared reads the session whose token hashes to key
// (findSessionByTokenHash), once for all concurrent callers with the same
// key. gen is the cache generation taken before that read, so each caller
// caches what it got with the stamp of the read it got (the revocation
// invariant: a revocation after the read refuses the write). The read runs
// without the first caller's cancellation (the others wait on it), bounded
// by the query timeout; a caller whose context ends stops waiting. The
// session returned is shared: callers copy it (withToken), never change it.
func (s *Service) readShared(ctx context.Context, key string) (*sessioncache.CachedSession, sessioncache.Generation, error) {
	ch := s.lookups.DoChan(key, func() (any, error) {
		gen := s.cache.generation() // before the read: see the revocation invariant
		s.stats.reads.Add(1)
		cs, err := s.findByTokenHash(context.WithoutCancel(ctx), key)
		return sharedRead{cs: cs, gen: gen}, err
	})
	select {
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case r := <-ch:
		v, _ := r.Val.(sharedRead)
		return v.cs, v.gen, r.Err
	}
}

// lookupStats counts what GetSessionFromToken did: answers from the
// cache, unknown tokens answered from the negative cache, and database
// reads (one per shared read).
type lookupStats struct {
	hits, negative, reads atomic.Int64
}

// LookupStats is what session lookups have done since the service
// started.
type LookupStats struct {
	// CacheHits were answered from the session cache.
	CacheHits int64
	// NegativeHits were unknown tokens answered without a read.
	NegativeHits int64
	// DatabaseReads are the session reads sent to the database (concurrent
	// lookups of one token share one).
	DatabaseReads int64
}

// LookupStats returns the lookup counts.
func (s *Service) LookupStats() LookupStats {
	return LookupStats{CacheHits: s.stats.hits.Load(), NegativeHits: s.stats.negative.Load(), DatabaseReads: s.stats.reads.Load()}
}

// findSessionByTokenHash is Vendure's findSessionByToken: it reads a live
// session (an expired row is never revived) and applies sliding expiry.
func (s *Service) findSessionByTokenHash(ctx context.Context, hash string) (*sessioncache.CachedSession, error) {
	cs, err := s.loadByTokenHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	if cs.IsExpired(s.nowUTC()) {
		return nil, errSessionExpired
	}
	if err := s.updateSessionExpiry(ctx, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// updateSessionExpiry is Vendure's sliding expiry: a session with less than
// half of its lifetime left is extended to now + lifetime, in the row and
// in cs (so the new expiry is what gets cached). Otherwise nothing is
// written. The lifetime is SessionDuration, or AnonymousSessionDuration
// for a guest without an active order (see renewal).
func (s *Service) updateSessionExpiry(ctx context.Context, cs *sessioncache.CachedSession) error {
	now := s.nowUTC()
	lifetime, renew := s.renewal(cs, cs.Expires.Sub(now))
	if !renew {
		return nil
	}
	expires := now.Add(lifetime)
	if _, err := s.db.NewUpdate().Model((*entity.Session)(nil)).
		Set("expires = ?", expires).Set("updated_at = ?", now).
		Where("id = ?", cs.ID).Exec(ctx); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	cs.Expires = expires
	return nil
}

// renewal is the sliding-expiry rule: the lifetime of a session holding
// what cs holds, and whether a session with left before it expires is
// renewed to it now.
//
//   - A logged-in session lives SessionDuration and is renewed when less
//     than half of it is left: Vendure's rule, at most one write per half
//     lifetime.
//   - A guest with an active order (a cart worth keeping) lives
//     SessionDuration too, but is renewed once half of
//     AnonymousCartIdleTimeout has passed since its last renewal, so a
//     cart in use is written at least that often and the idle rule (see
//     idleFor) only ends one unused for between half the cart idle timeout
//     and all of it (15 to 30 days by default).
//   - A guest without an active order lives AnonymousSessionDuration. It is
//     renewed once half of AnonymousIdleTimeout (or of its lifetime, if
//     shorter) has passed since its last renewal, so a guest in use is
//     written at least that often and the idle clean-up only removes one
//     unused for between half the idle timeout and all of it (3.5 to 7
//     days by default: one write per guest per 3.5 days). One left with a
//     longer expiry (its order was cleared, or it predates the setting) is
//     brought back to AnonymousSessionDuration.
func (s *Service) renewal(cs *sessioncache.CachedSession, left time.Duration) (lifetime time.Duration, renew bool) {
	if cs.User != nil {
		return s.duration, left < s.duration/2
	}
	if cs.ActiveOrderID != nil {
		every := min(s.cartIdle, s.duration) / 2
		return s.duration, left < s.duration-every || left > s.duration
	}
	every := min(s.anonIdle, s.anonDuration) / 2
	return s.anonDuration, left < s.anonDuration-every || left > s.anonDuration
}

// idleFor is how long a session holding what row holds may go without a
// row write: AnonymousIdleTimeout for a guest without an active order,
// AnonymousCartIdleTimeout for one with, no limit (0) for a logged-in
// session. The lookup does not find a guest idle longer (an idle session
// is gone whether or not the clean-up has run yet), and the clean-up
// removes it.
func (s *Service) idleFor(userID, activeOrderID *entity.ID) time.Duration {
	switch {
	case userID != nil:
		return 0
	case activeOrderID != nil:
		return s.cartIdle
	default:
		return s.anonIdle
	}
}

// sessionRow is one row of the session lookup: a session with one
// (role, channel) pair of its user, if any.
type sessionRow struct {
	ID                     entity.ID  `bun:"id"`
	TokenHash              string     `bun:"token_hash"`
	Expires                time.Time  `bun:"expires"`
	UpdatedAt              time.Time  `bun:"updated_at"`
	LastUsedAt             *time.Time `bun:"last_used_at"`
	ActiveOrderID          *entity.ID `bun:"active_order_id"`
	ActiveChannelID        *entity.ID `bun:"active_channel_id"`
	SessionUserID          *entity.ID `bun:"session_user_id"`
	AuthenticationStrategy *string    `bun:"authentication_strategy"`
	UserID                 *entity.ID `bun:"user_id"`
	Identifier             *string    `bun:"identifier"`
	Verified               *bool      `bun:"verified"`
	AdministratorID        *entity.ID `bun:"administrator_id"`
	RoleID                 *entity.ID `bun:"role_id"`
	Permissions            *string    `bun:"permissions"`
	ChannelID              *entity.ID `bun:"channel_id"`
	ChannelToken           *string    `bun:"channel_token"`
	ChannelCode            *string    `bun:"channel_code"`
}

// sessionOfRows serializes the rows of a session lookup (see
// sessionQueries), and returns the session's token hash too.
func (s *Service) sessionOfRows(rows []sessionRow) (*sessioncache.CachedSession, string, error) {
	if len(rows) == 0 {
		return nil, "", outcome.ErrNotFound
	}
	first := rows[0]
	if first.SessionUserID != nil && first.UserID == nil {
		return nil, "", outcome.ErrNotFound // the user was deleted
	}
	if idle := s.idleFor(first.SessionUserID, first.ActiveOrderID); idle > 0 && s.nowUTC().After(first.UpdatedAt.Add(idle)) {
		return nil, "", errSessionIdle // an idle guest (see idleFor)
	}
	if s.idle > 0 && first.SessionUserID != nil && s.nowUTC().After(lastUse(first).Add(s.idle+usageSlack)) {
		return nil, "", errSessionIdle // idle past IdleTimeout
	}
	row := &entity.Session{
		ID: first.ID, TokenHash: first.TokenHash, Expires: first.Expires,
		ActiveOrderID: first.ActiveOrderID, ActiveChannelID: first.ActiveChannelID,
		UserID: first.UserID, AuthenticationStrategy: first.AuthenticationStrategy,
	}
	var user *sessioncache.CachedUser
	if first.UserID != nil {
		user = &sessioncache.CachedUser{
			ID:              *first.UserID,
			Identifier:      deref(first.Identifier),
			Verified:        deref(first.Verified),
			IsAdministrator: first.AdministratorID != nil,
		}
		user.ChannelPermissions = channelPermissions(rows)
	}
	return s.serialize(row, user, s.nowUTC()), first.TokenHash, nil
}

// channelPermissions merges the (role, channel) rows of a user into one entry
// per channel: the union of the permissions of every role on that channel, in
// role order then permission order, sorted by channel id (rows arrive ordered
// by role id, then channel id). It returns the interned set, shared with
// every session of the same permissions (see sessioncache.PermissionSet).
func channelPermissions(rows []sessionRow) sessioncache.PermissionSet {
	out := []sessioncache.ChannelPermissions{}
	index := map[entity.ID]int{}
	seen := map[entity.ID]map[auth.Permission]struct{}{}
	for _, r := range rows {
		if r.ChannelID == nil || r.Permissions == nil {
			continue
		}
		i, ok := index[*r.ChannelID]
		if !ok {
			i = len(out)
			index[*r.ChannelID] = i
			seen[*r.ChannelID] = map[auth.Permission]struct{}{}
			out = append(out, sessioncache.ChannelPermissions{
				ID: *r.ChannelID, Token: deref(r.ChannelToken), Code: deref(r.ChannelCode),
				Permissions: []auth.Permission{},
			})
		}
		var list entity.StringList
		_ = list.Scan(*r.Permissions)
		for _, p := range list {
			perm := auth.Permission(p)
			if _, dup := seen[*r.ChannelID][perm]; dup {
				continue
			}
			seen[*r.ChannelID][perm] = struct{}{}
			out[i].Permissions = append(out[i].Permissions, perm)
		}
	}
	slices.SortFunc(out, func(a, b sessioncache.ChannelPermissions) int { return cmp.Compare(a.ID, b.ID) })
	return sessioncache.NewPermissionSet(out)
}

// SerializeSession is Vendure's serializeSession: the CachedSession of a
// session row and its user, with a new cacheExpiry of now + CacheTTL.
func (s *Service) SerializeSession(row *entity.Session, user *sessioncache.CachedUser) *sessioncache.CachedSession {
	return s.serialize(row, user, s.nowUTC())
}

func (s *Service) serialize(row *entity.Session, user *sessioncache.CachedUser, now time.Time) *sessioncache.CachedSession {
	cs := &sessioncache.CachedSession{
		CacheExpiry:     float64(now.Add(s.cacheTTL).UnixNano()) / 1e9,
		ID:              row.ID,
		Expires:         row.Expires.UTC(),
		ActiveOrderID:   row.ActiveOrderID,
		ActiveChannelID: row.ActiveChannelID,
	}
	if user != nil {
		cs.User = user
		cs.AuthenticationStrategy = deref(row.AuthenticationStrategy)
	}
	return cs
}

// lastUse is the latest of a session row's last use and last write (a row
// written before last use was recorded has none).
func lastUse(r sessionRow) time.Time {
	if r.LastUsedAt != nil && r.LastUsedAt.After(r.UpdatedAt) {
		return *r.LastUsedAt
	}
	return r.UpdatedAt
}
