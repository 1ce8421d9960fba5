package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// A lazy guest session lives in the cache only: no row, ID 0, and its token
// works for as long as its entry is there.
func TestLazyGuestIsCachedOnly(t *testing.T) {
	eachDB(t, bundleOpts{LazyGuests: true, CacheTTL: time.Minute}, func(t *testing.T, b *testBundle) {
		t0 := b.clock.Now()
		cs := b.anonymous(t)
		require.False(t, cs.Stored())
		require.Nil(t, b.sessionRow(t, cs.Token), "no row")
		require.Zero(t, b.countSessions(t))
		requireTimeEqual(t, t0.Add(30*day), cs.Expires)
		require.Equal(t, b.defaultChannel.ID, *cs.ActiveChannelID)
		require.Zero(t, b.cache.TokenLeaks())

		got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.Equal(t, cs.Token, got.Token)
		require.False(t, got.Stored())

		// An unknown token is still not found.
		_, err = b.sessions.GetSessionFromToken(b.ctx, randomToken(t))
		require.ErrorIs(t, err, outcome.ErrNotFound)
		require.Zero(t, b.countSessions(t))
	})
}

// A cache-only entry does not go stale (there is no row to re-read): once
// half of CacheTTL has passed, a request renews it, with a new cacheExpiry
// and the guest sliding-expiry rule; a guest in use keeps its token for
// months without a row.
func TestLazyGuestIsRenewedInTheCache(t *testing.T) {
	eachDB(t, bundleOpts{LazyGuests: true, CacheTTL: time.Minute}, func(t *testing.T, b *testBundle) {
		cs := b.anonymous(t)
		key := session.HashToken(cs.Token)
		first := b.cache.Peek(b.ctx, key).CacheExpiry

		b.clock.Advance(29 * time.Second) // not yet due
		b.cache.Reset()
		_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.Zero(t, b.cache.Calls().Sets, "not due: no write")

		b.clock.Advance(2 * time.Second) // past half the TTL
		got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.Equal(t, 1, b.cache.Calls().Sets, "renewed")
		require.Greater(t, b.cache.Peek(b.ctx, key).CacheExpiry, first)
		require.False(t, got.Stored())

		// In use every few days for two months: still the same token, and
		// never a row. The expiry slides (guests are renewed once half the
		// idle timeout has passed).
		for range 20 {
			b.clock.Advance(3 * day)
			got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
		}
		require.True(t, got.Expires.After(b.clock.Now().Add(20*day)), "expires %v", got.Expires)
		require.Zero(t, b.countSessions(t))

		// Unused until it expires: gone.
		b.clock.Advance(31 * day)
		_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.ErrorIs(t, err, outcome.ErrNotFound)
	})
}

// Another instance (sharing the database, not the memory cache) may have
// stored the guest: a due entry is looked for in the database first, and
// the row wins.
func TestLazyGuestDueEntryPrefersTheRow(t *testing.T) {
	eachDB(t, bundleOpts{LazyGuests: true, CacheTTL: time.Minute}, func(t *testing.T, b *testBundle) {
		cs := b.anonymous(t)
		other := b.createChannel(t, "other")
		row := entity.Session{
			TokenHash: session.HashToken(cs.Token), Type: entity.SessionAnonymous,
			Expires: cs.Expires, ActiveChannelID: &other.ID,
			CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now(),
		}
		_, err := b.db.NewInsert().Model(&row).Exec(b.ctx)
		require.NoError(t, err)

		got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.False(t, got.Stored(), "not due yet: the cached entry serves")

		b.clock.Advance(31 * time.Second)
		got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
		require.NoError(t, err)
		require.Equal(t, row.ID, got.ID)
		require.Equal(t, other.ID, *got.ActiveChannelID)
		require.Equal(t, row.ID, b.cache.Peek(b.ctx, session.HashToken(cs.Token)).ID, "the row is cached")
	})
}

// Holding something stores the guest: another channel (SetActiveChannel)
// or an active order (SetActiveOrder) inserts its row with that value, once,
// under the same token; the cache then holds the stored session.
func TestLazyGuestIsStoredWhenItHoldsSomething(t *testing.T) {
	t.Run("Channel", func(t *testing.T) {
		eachDB(t, bundleOpts{LazyGuests: true}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			ch := b.createChannel(t, "second")
			b.clock.Advance(time.Second)

			// The request's channel is the one it was created on: nothing to store.
			same, err := b.sessions.EnsureActiveChannel(b.ctx, cs, b.defaultChannel.ID)
			require.NoError(t, err)
			require.False(t, same.Stored())
			require.Zero(t, b.countSessions(t))

			got, err := b.sessions.EnsureActiveChannel(b.ctx, cs, ch.ID)
			require.NoError(t, err)
			require.True(t, got.Stored())
			require.Equal(t, cs.Token, got.Token)
			row := b.sessionRow(t, cs.Token)
			require.NotNil(t, row)
			require.Equal(t, got.ID, row.ID)
			require.Equal(t, entity.SessionAnonymous, row.Type)
			require.Equal(t, ch.ID, *row.ActiveChannelID)
			requireTimeEqual(t, cs.Expires, row.Expires)
			require.Equal(t, row.ID, b.cache.Peek(b.ctx, session.HashToken(cs.Token)).ID)

			// The stale request value (ID 0) again: the row is found, not duplicated.
			again, err := b.sessions.SetActiveChannel(b.ctx, cs, b.defaultChannel.ID)
			require.NoError(t, err)
			require.Equal(t, row.ID, again.ID)
			require.Equal(t, 1, b.countSessions(t))
			require.Equal(t, b.defaultChannel.ID, *b.sessionRow(t, cs.Token).ActiveChannelID)
		})
	})
	t.Run("Order", func(t *testing.T) {
		eachDB(t, bundleOpts{LazyGuests: true}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			order := &entity.Order{
				CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now(), Code: "LAZY1", State: entity.OrderAddingItems,
				Active: true, ChannelID: b.defaultChannel.ID, CurrencyCode: b.defaultChannel.DefaultCurrencyCode,
			}
			_, err := b.db.NewInsert().Model(order).Exec(b.ctx)
			require.NoError(t, err)
			t0 := b.clock.Now()
			got, err := b.sessions.SetActiveOrder(b.ctx, cs, order.ID)
			require.NoError(t, err)
			require.True(t, got.Stored())
			row := b.sessionRow(t, cs.Token)
			require.Equal(t, order.ID, *row.ActiveOrderID)
			requireTimeEqual(t, t0.Add(auth.DefaultSessionDuration), row.Expires)
			cached, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, order.ID, *cached.ActiveOrderID)
		})
	})
}

// Lazy guests need a cache that stores: with Noop every guest gets its row
// (the token would otherwise never work), and so does one created while
// the cache is failing.
func TestLazyGuestFallsBackToARow(t *testing.T) {
	t.Run("Noop", func(t *testing.T) {
		eachDB(t, bundleOpts{LazyGuests: true, NewCache: noopCache}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			require.True(t, cs.Stored())
			require.NotNil(t, b.sessionRow(t, cs.Token))
		})
	})
	t.Run("FailingCache", func(t *testing.T) {
		eachDB(t, bundleOpts{LazyGuests: true, NewCache: func(*testing.T) sessioncache.Strategy { return failingSet{} }}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			require.True(t, cs.Stored(), "the cache did not take it: a row")
			require.NotNil(t, b.sessionRow(t, cs.Token))
			cs = b.anonymous(t) // the guard now knows the cache is down
			require.True(t, cs.Stored())
			require.Equal(t, 2, b.countSessions(t))
		})
	})
}

// failingSet is a cache whose every call fails.
type failingSet struct{}

var errCacheDown = errors.New("cache down")

func (failingSet) Generation() sessioncache.Generation { return 0 }
func (failingSet) Set(context.Context, string, *sessioncache.CachedSession, sessioncache.Generation) error {
	return errCacheDown
}
func (failingSet) Get(context.Context, string) (*sessioncache.CachedSession, error) {
	return nil, errCacheDown
}
func (failingSet) Delete(context.Context, ...string) error { return errCacheDown }
func (failingSet) Clear(context.Context) error             { return errCacheDown }
