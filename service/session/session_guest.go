package session

import (
	"context"
	"fmt"
	"time"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Guest sessions are written lazily (Config.LazyGuestSessions).
// Vendure inserts a session row for every request that reaches an Owner
// field without a live token: one row per crawler hit, per client that
// replays a dead token, per shopper who never adds anything. Here a guest
// session that holds nothing (no user, no active order, the channel it was
// created on) lives in the session cache only, with ID 0
// (CachedSession.Stored), and gets its row the first time it holds
// something, inside the transaction that stores that: its first active
// order (order.Service's writes, SetActiveOrder) or another channel
// (SetActiveChannel). To a client nothing changes while its entry is in the
// cache; a guest whose entry is gone (evicted, expired from Redis, a cache
// outage, another instance's memory cache) gets a new guest token from the
// next Owner field, and loses nothing, since it held nothing.
//
// A cache-only entry cannot go stale (there is no row to re-read), so
// instead of its cacheExpiry passing it is renewed once half of CacheTTL has
// passed: the row is looked for first (another instance may have stored the
// session), and if there is none the entry is written again with a new
// cacheExpiry and, by the sliding-expiry rule, a new expiry. On Redis,
// whose keys expire with SESSION_CACHE_TTL, a guest that makes no request
// for that long therefore starts over.

// CreateAnonymousSession is Vendure's createAnonymousSession: it creates a
// guest session on channelID (nil for none) for the client ctx names
// (clientinfo; an in-process caller names none and is not counted). It lives AnonymousSessionDuration (Vendure:
// sessionDuration) until it gets an active order.
//
// A client past GuestAddressLimit gets *outcome.TooManyRequestsError and no session (see
// session_guest_limit.go). With lazy guest sessions and a healthy cache it
// is only cached (see above). Otherwise, or when the cache does not take
// it, its row is inserted, committing on its own, outside any request
// transaction, so the guest keeps it even if the request fails later, and
// then cached. Each new guest counts against the instance's
// GuestCacheLimit: past it the guest is not cached, and a lazy one gets
// no row either (its token serves this request only).
func (s *Service) CreateAnonymousSession(ctx context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error) {
	now := s.nowUTC()
	if wait, ok := s.guests.admitAddress(clientinfo.From(ctx).Address, now); !ok {
		if s.metrics != nil {
			s.metrics.GuestRefused()
		}
		return nil, &outcome.TooManyRequestsError{RetryAfter: wait}
	}
	token, err := GenerateToken()
	if err != nil {
		return nil, err
	}
	gen := s.cache.generation()
	row := &entity.Session{
		CreatedAt: now, UpdatedAt: now,
		TokenHash:       HashToken(token),
		Type:            entity.SessionAnonymous,
		Expires:         now.Add(s.anonDuration),
		ActiveChannelID: channelID,
	}
	// Every new guest's cache write counts against the instance budget.
	admitted := s.guests.admitCacheWrite(now)
	if s.lazyGuests {
		cs := s.serialize(row, nil, now)
		if !admitted {
			// Over the instance budget: a guest of this request only,
			// neither cached nor stored (a slow cache under a flood must
			// not turn the flood into rows instead).
			s.recordCreated(false)
			return withToken(cs, token), nil
		}
		if s.cache.healthy() && s.cache.set(ctx, row.TokenHash, cs, gen) {
			s.recordCreated(false)
			return withToken(cs, token), nil
		}
	}
	withClient(ctx, row)
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create anonymous session: %w", err)
	}
	cs := s.serialize(row, nil, now)
	if admitted {
		s.cache.set(ctx, row.TokenHash, cs, gen)
	}
	s.recordCreated(false)
	return withToken(cs, token), nil
}

// guestDue reports whether a cache-only guest entry is due for renewal at
// now: half of CacheTTL has passed since it was written.
func (s *Service) guestDue(cs *sessioncache.CachedSession, now time.Time) bool {
	return cs.IsStale(now.Add(s.cacheTTL / 2))
}

// cachedGuestIdle reports whether a cache-only guest entry has gone
// AnonymousIdleTimeout without a renewal (its expiry was last set
// AnonymousSessionDuration ahead): the idle rule of a guest's row (see
// renewal), for an entry that outlived it in a cache that does not expire
// it (the memory LRU; Redis keys expire after SESSION_CACHE_TTL).
func (s *Service) cachedGuestIdle(cs *sessioncache.CachedSession, now time.Time) bool {
	return !now.Before(cs.Expires.Add(s.anonIdle - s.anonDuration))
}

// renewGuest writes a cache-only guest entry again under key with a new
// cacheExpiry and, by the sliding-expiry rule, a new expiry, and returns it
// for the request. gen was taken before the row was looked for: a
// revocation since then keeps the write out. Past the instance's
// GuestCacheLimit the write is skipped (session_guest_limit.go): the entry
// serves until it expires from the cache.
func (s *Service) renewGuest(ctx context.Context, key, token string, cached *sessioncache.CachedSession, gen sessioncache.Generation) *sessioncache.CachedSession {
	now := s.nowUTC()
	if !s.guests.admitCacheWrite(now) {
		return withToken(cached, token)
	}
	c := *cached
	c.CacheExpiry = float64(now.Add(s.cacheTTL).UnixNano()) / 1e9
	if lifetime, renew := s.renewal(&c, c.Expires.Sub(now)); renew {
		c.Expires = now.Add(lifetime)
	}
	s.cache.set(ctx, key, &c, gen)
	return withToken(&c, token)
}

// storeGuest gives a cache-only guest session its row in t, or finds the
// row a concurrent request gave it, and returns the row's id and active
// order. The row is locked until t ends (PostgreSQL's ON CONFLICT DO
// UPDATE locks it; SQLite has one writer), so concurrent first writes of
// one guest serialize here as they do on a stored session's row. The cache
// is not touched: the caller re-caches the session after commit.
func (s *Service) storeGuest(ctx context.Context, t *Tx, cs *sessioncache.CachedSession) (entity.ID, *entity.ID, error) {
	if cs.Token == "" {
		return 0, nil, fmt.Errorf("store guest session: the session carries no token")
	}
	now := s.nowUTC()
	row := &entity.Session{
		CreatedAt: now, UpdatedAt: now,
		TokenHash:       HashToken(cs.Token),
		Type:            entity.SessionAnonymous,
		Expires:         cs.Expires,
		ActiveChannelID: cs.ActiveChannelID,
	}
	withClient(ctx, row)
	if _, err := t.NewInsert().Model(row).
		On("CONFLICT (token_hash) DO UPDATE").Set("updated_at = EXCLUDED.updated_at").
		Returning("id, active_order_id").Exec(ctx); err != nil {
		return 0, nil, fmt.Errorf("store guest session: %w", err)
	}
	return row.ID, row.ActiveOrderID, nil
}
