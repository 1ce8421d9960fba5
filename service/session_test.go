package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

func TestHashToken(t *testing.T) {
	t.Parallel()

	// FIPS 180-2 test vectors.
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", session.HashToken("abc"))
	require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", session.HashToken(""))

	tok := strings.Repeat("0123456789abcdef", 4)
	sum := sha256.Sum256([]byte(tok))
	require.Equal(t, hex.EncodeToString(sum[:]), session.HashToken(tok))
	require.Regexp(t, `^[0-9a-f]{64}$`, session.HashToken(tok))
	require.NotEqual(t, session.HashToken(tok), session.HashToken(strings.ToUpper(tok)))
}

func TestNewSessionService(t *testing.T) {
	t.Parallel()

	t.Run("RequiresDB", func(t *testing.T) {
		t.Parallel()
		_, err := session.New(session.Config{})
		require.Error(t, err)
	})

	t.Run("Defaults", func(t *testing.T) {
		eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()
			cs := b.newSession(t, b.superadminUserID)
			// 1y = 365.25 days; 300 s cache TTL.
			requireTimeEqual(t, now.Add(oneYear), cs.Expires)
			require.InDelta(t, unixSeconds(now.Add(300*time.Second)), cs.CacheExpiry, 1e-6)
			// A guest: 30 days (AnonymousSessionDuration).
			cs = b.anonymous(t)
			requireTimeEqual(t, now.Add(30*24*time.Hour), cs.Expires)
			require.InDelta(t, unixSeconds(now.Add(300*time.Second)), cs.CacheExpiry, 1e-6)
		})
	})
}

func TestSessionService_Tokens(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		var tokens []string
		for range 10 {
			tokens = append(tokens, b.anonymous(t).Token)
		}
		for range 5 {
			tokens = append(tokens, b.newSession(t, b.superadminUserID).Token)
		}
		tokens = append(tokens, b.login(t, auth.AdminAPI, superadminLogin, superadminPassword).Token)

		seen := map[string]bool{}
		for _, tok := range tokens {
			require.Regexp(t, `^[0-9a-f]{64}$`, tok)
			require.False(t, seen[tok], "duplicate token %s", tok)
			seen[tok] = true

			row := b.sessionRow(t, tok)
			require.NotNil(t, row)
			require.Equal(t, session.HashToken(tok), row.TokenHash)

			// No column of the row holds the raw token.
			var cols map[string]any
			require.NoError(t, b.db.NewSelect().Table("session").Where("id = ?", row.ID).Scan(b.ctx, &cols))
			require.Contains(t, cols, "token_hash")
			for name, v := range cols {
				s := fmt.Sprint(v)
				if raw, ok := v.([]byte); ok {
					s = string(raw)
				}
				require.NotContains(t, s, tok, "column %s holds the raw token", name)
			}
		}

		// The cache is keyed by the hash and never receives the raw token.
		for _, key := range b.cache.SetKeys() {
			require.False(t, seen[key], "a cache key is a raw token")
		}
		require.Zero(t, b.cache.TokenLeaks(), "a cached value carried the raw token")
		for tok := range seen {
			require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(tok)))
		}
	})
}

func TestSessionService_CreateAnonymousSession(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: 10 * time.Second}

	t.Run("StoresRowAndCachesOnce", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.clock.Advance(250 * time.Millisecond)
			now := b.clock.Now()
			ch := b.defaultChannel.ID

			cs, err := b.sessions.CreateAnonymousSession(b.ctx, &ch)
			require.NoError(t, err)
			require.NotZero(t, cs.ID)
			require.Nil(t, cs.User)
			require.Empty(t, cs.AuthenticationStrategy)
			require.Nil(t, cs.ActiveOrderID)
			require.Equal(t, &ch, cs.ActiveChannelID)
			requireTimeEqual(t, now.Add(time.Hour), cs.Expires)
			require.InDelta(t, unixSeconds(now.Add(10*time.Second)), cs.CacheExpiry, 1e-6)

			row := b.sessionRow(t, cs.Token)
			require.NotNil(t, row)
			require.Equal(t, cs.ID, row.ID)
			require.Equal(t, entity.SessionAnonymous, row.Type)
			requireTimeEqual(t, now.Add(time.Hour), row.Expires)
			requireTimeEqual(t, now, row.CreatedAt)
			requireTimeEqual(t, now, row.UpdatedAt)
			require.False(t, row.Invalidated)
			require.Nil(t, row.UserID)
			require.Nil(t, row.AuthenticationStrategy)
			require.Nil(t, row.ActiveOrderID)
			require.Equal(t, &ch, row.ActiveChannelID)

			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			require.Equal(t, []string{session.HashToken(cs.Token)}, b.cache.SetKeys())
			cached := b.cache.Peek(b.ctx, session.HashToken(cs.Token))
			require.NotNil(t, cached)
			require.Equal(t, cs.ID, cached.ID)
			require.Empty(t, cached.Token)
		})
	})

	t.Run("WithoutChannel", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs, err := b.sessions.CreateAnonymousSession(b.ctx, nil)
			require.NoError(t, err)
			require.Nil(t, cs.ActiveChannelID)
			row := b.sessionRow(t, cs.Token)
			require.NotNil(t, row)
			require.Nil(t, row.ActiveChannelID)
		})
	})
}

func TestSessionService_GetSessionFromToken(t *testing.T) {
	t.Parallel()

	const (
		duration = time.Hour
		ttl      = 10 * time.Second
	)
	opts := bundleOpts{SessionDuration: duration, CacheTTL: ttl}

	t.Run("CacheHitSkipsDatabase", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.cache.Reset()

			// Delete the row behind the cache's back: a fresh entry is
			// served without touching the database.
			_, err := b.db.NewDelete().Model((*entity.Session)(nil)).Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)

			b.clock.Advance(ttl) // cacheExpiry == now: still fresh
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, cs.ID, got.ID)
			require.Equal(t, cs.Token, got.Token)
			require.Equal(t, sessioncachetest.Calls{Gets: 1}, b.cache.Calls())
			require.Empty(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)).Token, "the cached entry must not be modified")
		})
	})

	t.Run("MissLoadsAndCaches", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.newSession(t, b.superadminUserID)
			require.NoError(t, b.cache.Clear(b.ctx))
			b.cache.Reset()
			b.clock.Advance(time.Second)

			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, cs.ID, got.ID)
			require.Equal(t, cs.Token, got.Token)
			require.NotNil(t, got.User)
			require.Equal(t, superadminLogin, got.User.Identifier)
			require.Equal(t, sessioncachetest.Calls{Gets: 1, Sets: 1}, b.cache.Calls())
			require.InDelta(t, unixSeconds(b.clock.Now().Add(ttl)), got.CacheExpiry, 1e-6)

			// The next lookup is a cache hit.
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, sessioncachetest.Calls{Gets: 2, Sets: 1}, b.cache.Calls())
		})
	})

	t.Run("StaleEntryRefreshedFromDatabase", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			key := session.HashToken(cs.Token)
			first := b.cache.Peek(b.ctx, key).CacheExpiry

			// Change the row behind the cache's back: only a refresh sees it.
			order := entity.ID(42)
			_, err := b.db.NewUpdate().Model((*entity.Session)(nil)).Set("active_order_id = ?", order).
				Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)

			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Nil(t, got.ActiveOrderID, "fresh entry is served as is")

			b.cache.Reset()
			b.clock.Advance(ttl + time.Millisecond)
			got, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, &order, got.ActiveOrderID)
			require.Equal(t, sessioncachetest.Calls{Gets: 1, Sets: 1}, b.cache.Calls())
			require.Equal(t, []string{key}, b.cache.SetKeys())

			cached := b.cache.Peek(b.ctx, key)
			want := unixSeconds(b.clock.Now().Add(ttl))
			require.InDelta(t, want, cached.CacheExpiry, 1e-6)
			require.Greater(t, cached.CacheExpiry, first)
			require.Equal(t, &order, cached.ActiveOrderID)
		})
	})

	t.Run("StaleEntryOfDeletedRowIsEvicted", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			key := session.HashToken(cs.Token)
			_, err := b.db.NewDelete().Model((*entity.Session)(nil)).Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)
			b.cache.Reset()

			b.clock.Advance(ttl + time.Second)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Nil(t, b.cache.Peek(b.ctx, key), "Vendure keeps the stale entry; we evict it")
			require.Equal(t, sessioncachetest.Calls{Gets: 1, Deletes: 1}, b.cache.Calls())
			require.Equal(t, []string{key}, b.cache.DeleteKeys())

			// No negative caching: a later lookup misses again, without a Delete.
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Equal(t, sessioncachetest.Calls{Gets: 2, Deletes: 1}, b.cache.Calls())
		})
	})

	t.Run("ExpiredSessionNotFoundAndNotRevived", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.newSession(t, b.superadminUserID)
			before := b.sessionRow(t, cs.Token)

			b.clock.Advance(duration + time.Second)
			for range 2 {
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
			after := b.sessionRow(t, cs.Token)
			require.NotNil(t, after)
			requireTimeEqual(t, before.Expires, after.Expires, "an expired session is not extended")
			requireTimeEqual(t, before.UpdatedAt, after.UpdatedAt)
			require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
		})
	})

	t.Run("ExpiredAtExactlyExpiresIsNotFound", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: duration, CacheTTL: 2 * duration}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.clock.Advance(duration)
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("ExpiredWhileCacheEntryFresh", func(t *testing.T) {
		// A cache TTL longer than the session: the entry is fresh but the
		// session has expired, so the database decides.
		eachDB(t, bundleOpts{SessionDuration: 10 * time.Second, CacheTTL: time.Minute}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			key := session.HashToken(cs.Token)
			b.clock.Advance(11 * time.Second)
			require.False(t, b.cache.Peek(b.ctx, key).IsStale(b.clock.Now()))

			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Nil(t, b.cache.Peek(b.ctx, key))
		})
	})

	t.Run("InvalidatedNotFound", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.newSession(t, b.superadminUserID)
			_, err := b.db.NewUpdate().Model((*entity.Session)(nil)).Set("invalidated = ?", true).
				Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)

			b.clock.Advance(ttl + time.Second)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
		})
	})

	t.Run("InvalidatedNotFoundWithoutCache", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: duration, CacheTTL: ttl, NewCache: noopCache}, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			_, err = b.db.NewUpdate().Model((*entity.Session)(nil)).Set("invalidated = ?", true).
				Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("EmptyOversizedAndUnknownTokens", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.anonymous(t)
			b.cache.Reset()

			for _, tok := range []string{"", strings.Repeat("a", 10*1024)} {
				_, err := b.sessions.GetSessionFromToken(b.ctx, tok)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
			require.Equal(t, sessioncachetest.Calls{}, b.cache.Calls(), "rejected before the cache")

			_, err := b.sessions.GetSessionFromToken(b.ctx, randomToken(t))
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Equal(t, sessioncachetest.Calls{Gets: 1}, b.cache.Calls())
		})
	})

	t.Run("SoftDeletedUserNotFound", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "gone@example.com", "secret", true)
			cs := b.login(t, auth.ShopAPI, "gone@example.com", "secret")

			// Mark the user deleted directly (UserService.SoftDelete would
			// also delete the sessions).
			_, err := b.db.NewUpdate().Model((*entity.User)(nil)).Set("deleted_at = ?", b.clock.Now()).
				Where("id = ?", uid).Exec(b.ctx)
			require.NoError(t, err)
			require.NotNil(t, b.sessionRow(t, cs.Token))

			b.clock.Advance(ttl + time.Second)
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
		})
	})
}

func TestSessionService_SlidingExpiry(t *testing.T) {
	t.Parallel()

	t.Run("LookupsEverySecondKeepSessionAlive", func(t *testing.T) {
		// Vendure e2e: sessionDuration 3s, sessionCacheTTL 1.
		eachDB(t, bundleOpts{SessionDuration: 3 * time.Second, CacheTTL: time.Second}, func(t *testing.T, b *testBundle) {
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			start := b.clock.Now()
			for i := 1; i <= 6; i++ {
				b.clock.Advance(time.Second)
				got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err, "lookup at +%ds", i)
				require.True(t, got.Expires.After(b.clock.Now()))
			}
			require.Greater(t, b.clock.Now().Sub(start), 4*time.Second)
		})
	})

	t.Run("DatabaseExpiryMovesOnlyBelowHalf", func(t *testing.T) {
		// No cache: every lookup reads the row.
		eachDB(t, bundleOpts{SessionDuration: 3 * time.Second, CacheTTL: time.Second, NewCache: noopCache}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			cs := b.anonymous(t)

			// +1 s: 2 s left (>= 1.5 s): no write. +2 s: 1 s left: extended
			// to +5 s. +3 s: 2 s left: no write. +4 s: 1 s left: +7 s.
			wantExpires := []time.Duration{3, 5, 5, 7, 7, 9}
			wantUpdated := []time.Duration{0, 2, 2, 4, 4, 6}
			for i := range wantExpires {
				b.clock.Advance(time.Second)
				got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err, "lookup at +%ds", i+1)
				want := t0.Add(wantExpires[i] * time.Second)
				requireTimeEqual(t, want, got.Expires, "returned expires at +%ds", i+1)
				row := b.sessionRow(t, cs.Token)
				requireTimeEqual(t, want, row.Expires, "row expires at +%ds", i+1)
				requireTimeEqual(t, t0.Add(wantUpdated[i]*time.Second), row.UpdatedAt, "row updated_at at +%ds", i+1)
			}
		})
	})

	t.Run("IdleSessionDies", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: 3 * time.Second, CacheTTL: time.Second}, func(t *testing.T, b *testBundle) {
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			b.clock.Advance(3500 * time.Millisecond)
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("OneYearNoWriteAfterOneDay", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: oneYear}, func(t *testing.T, b *testBundle) {
			t0 := b.clock.Now()
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)

			b.clock.Advance(24 * time.Hour) // the 300 s cache entry is stale
			b.cache.Reset()
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, sessioncachetest.Calls{Gets: 1, Sets: 1}, b.cache.Calls(), "the lookup went to the database")
			requireTimeEqual(t, t0.Add(oneYear), got.Expires)
			row := b.sessionRow(t, cs.Token)
			requireTimeEqual(t, t0, row.UpdatedAt, "no write")
			requireTimeEqual(t, t0.Add(oneYear), row.Expires)
		})
	})

	t.Run("OneYearExtendedAfter200Days", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: oneYear}, func(t *testing.T, b *testBundle) {
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)

			b.clock.Advance(200 * 24 * time.Hour)
			now := b.clock.Now()
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			requireTimeEqual(t, now.Add(oneYear), got.Expires)
			row := b.sessionRow(t, cs.Token)
			requireTimeEqual(t, now.Add(oneYear), row.Expires)
			requireTimeEqual(t, now, row.UpdatedAt)
			requireTimeEqual(t, now.Add(oneYear), b.cache.Peek(b.ctx, session.HashToken(cs.Token)).Expires)
		})
	})
}

func TestSessionService_ChannelPermissions(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{CacheTTL: 30 * time.Second}

	t.Run("UnionPerChannelSortedByID", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			require.Greater(t, second.ID, b.defaultChannel.ID)

			// The first role (lower id) is only on the second channel, so
			// the rows arrive second channel first: the result must still
			// be sorted by channel id.
			r1 := b.createRole(t, "r1", []auth.Permission{"ReadOrder", "ReadCatalog"}, second.ID)
			r2 := b.createRole(t, "r2", []auth.Permission{"UpdateCatalog", "ReadCatalog", "ReadCustomer"},
				b.defaultChannel.ID, second.ID)
			b.createAdmin(t, "two.roles@example.com", "secret", r1, r2)
			cs := b.login(t, auth.AdminAPI, "two.roles@example.com", "secret")

			require.NotNil(t, cs.User)
			require.Equal(t, []sessioncache.ChannelPermissions{
				{
					ID: b.defaultChannel.ID, Token: testChannelToken, Code: entity.DefaultChannelCode,
					Permissions: []auth.Permission{"Authenticated", "UpdateCatalog", "ReadCatalog", "ReadCustomer"},
				},
				{
					ID: second.ID, Token: "second-token", Code: "second",
					Permissions: []auth.Permission{"Authenticated", "ReadOrder", "ReadCatalog", "UpdateCatalog", "ReadCustomer"},
				},
			}, cs.User.ChannelPermissions.Channels())

			// The refresh from the database computes the same thing.
			b.clock.Advance(time.Minute)
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Same(t, cs.User.ChannelPermissions.At(0), got.User.ChannelPermissions.At(0), "the refresh shares the interned set")
			require.Equal(t, cs.User.ChannelPermissions, got.User.ChannelPermissions)
			require.Equal(t, []auth.Permission{"Authenticated", "ReadOrder", "ReadCatalog", "UpdateCatalog", "ReadCustomer"},
				got.PermissionsOn(second.ID).List())
		})
	})

	t.Run("SuperadminHasEveryAssignablePermissionOnEveryChannel", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			third := b.createChannel(t, "third")
			cs := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)

			require.True(t, cs.User.IsAdministrator)
			require.True(t, cs.User.Verified)
			require.Equal(t, 3, cs.User.ChannelPermissions.Len())
			for i, id := range []entity.ID{b.defaultChannel.ID, second.ID, third.ID} {
				cp := cs.User.ChannelPermissions.Channels()[i]
				require.Equal(t, id, cp.ID)
				require.Equal(t, auth.Assignable(), cp.Permissions)
				require.NotContains(t, cp.Permissions, auth.Owner)
				require.NotContains(t, cp.Permissions, auth.Public)
			}
		})
	})

	t.Run("CustomerHasAuthenticatedOnItsChannels", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			b.createCustomer(t, "c@example.com", "secret", true)
			cs := b.login(t, auth.ShopAPI, "c@example.com", "secret")

			require.False(t, cs.User.IsAdministrator)
			require.Equal(t, "c@example.com", cs.User.Identifier)
			require.Equal(t, []sessioncache.ChannelPermissions{
				{ID: b.defaultChannel.ID, Token: testChannelToken, Code: entity.DefaultChannelCode, Permissions: []auth.Permission{"Authenticated"}},
				{ID: second.ID, Token: "second-token", Code: "second", Permissions: []auth.Permission{"Authenticated"}},
			}, cs.User.ChannelPermissions.Channels())
		})
	})

	t.Run("IsAdministrator", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			role := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			b.createAdmin(t, "admin@example.com", "secret", role)
			b.createCustomer(t, "customer@example.com", "secret", true)

			admin := b.login(t, auth.AdminAPI, "admin@example.com", "secret")
			require.True(t, admin.User.IsAdministrator)
			require.Equal(t, []auth.Permission{"Authenticated", "ReadCatalog"}, admin.PermissionsOn(b.defaultChannel.ID).List())
			customer := b.login(t, auth.ShopAPI, "customer@example.com", "secret")
			require.False(t, customer.User.IsAdministrator)
		})
	})

	t.Run("SerializeSession", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.clock.Advance(1250 * time.Millisecond)
			now := b.clock.Now()
			strategy := "native"
			row := &entity.Session{
				ID: 7, Expires: now.Add(time.Hour).In(time.FixedZone("X", 3600)),
				ActiveOrderID: idPtr(3), ActiveChannelID: idPtr(b.defaultChannel.ID),
				AuthenticationStrategy: &strategy,
			}

			anon := b.sessions.SerializeSession(row, nil)
			require.Equal(t, entity.ID(7), anon.ID)
			require.Nil(t, anon.User)
			require.Empty(t, anon.AuthenticationStrategy, "only authenticated sessions carry a strategy")
			require.Equal(t, idPtr(3), anon.ActiveOrderID)
			require.Equal(t, idPtr(b.defaultChannel.ID), anon.ActiveChannelID)
			requireTimeEqual(t, now.Add(time.Hour), anon.Expires)
			require.Equal(t, time.UTC, anon.Expires.Location())
			// cacheExpiry: now + TTL in fractional Unix seconds (not floored).
			want := float64(now.Add(30*time.Second).Unix()) + 0.25
			require.InDelta(t, want, anon.CacheExpiry, 1e-6)

			user := &sessioncache.CachedUser{ID: 5, Identifier: "x"}
			authed := b.sessions.SerializeSession(row, user)
			require.Equal(t, user, authed.User)
			require.Equal(t, "native", authed.AuthenticationStrategy)
		})
	})
}

func TestSessionService_CreateNewAuthenticatedSession(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("CachesAfterCommit", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()

			// When the cache is written, the row must already be committed:
			// another connection sees it. (Before commit, PostgreSQL would
			// not show it and SQLite's single connection would be busy.)
			var mu sync.Mutex
			var visible []int
			b.cache.OnSet(func(key string) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				n, err := b.db.NewSelect().Model((*entity.Session)(nil)).Where("token_hash = ?", key).Count(ctx)
				if err != nil {
					n = -1
				}
				mu.Lock()
				visible = append(visible, int(n))
				mu.Unlock()
			})
			order := entity.ID(9)
			ch := b.defaultChannel.ID
			cs, err := b.sessions.CreateNewAuthenticatedSession(b.ctx, session.NewAuthenticatedSession{
				UserID: b.superadminUserID, AuthenticationStrategy: "native",
				ActiveOrderID: &order, ActiveChannelID: &ch,
			})
			require.NoError(t, err)
			mu.Lock()
			require.Equal(t, []int{1}, visible)
			mu.Unlock()

			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			require.Equal(t, []string{session.HashToken(cs.Token)}, b.cache.SetKeys())
			require.Equal(t, "native", cs.AuthenticationStrategy)
			require.Equal(t, superadminLogin, cs.User.Identifier)
			require.Equal(t, &order, cs.ActiveOrderID)
			require.Equal(t, &ch, cs.ActiveChannelID)
			requireTimeEqual(t, now.Add(time.Hour), cs.Expires)

			row := b.sessionRow(t, cs.Token)
			require.Equal(t, entity.SessionAuthenticated, row.Type)
			require.Equal(t, &b.superadminUserID, row.UserID)
			require.Equal(t, "native", *row.AuthenticationStrategy)
			cached := b.cache.Peek(b.ctx, session.HashToken(cs.Token))
			require.Equal(t, cs.User, cached.User)
		})
	})

	t.Run("NoCacheWhenTransactionFails", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			ch := b.defaultChannel.ID
			before := b.countSessions(t)

			// A user id that violates the foreign key.
			_, err := b.sessions.CreateNewAuthenticatedSession(b.ctx, session.NewAuthenticatedSession{
				UserID: 999999, AuthenticationStrategy: "native", ActiveChannelID: &ch,
			})
			require.Error(t, err)

			// A channel id that violates the foreign key.
			_, err = b.sessions.CreateNewAuthenticatedSession(b.ctx, session.NewAuthenticatedSession{
				UserID: b.superadminUserID, AuthenticationStrategy: "native", ActiveChannelID: idPtr(999999),
			})
			require.Error(t, err)

			// A cancelled context.
			ctx, cancel := context.WithCancel(b.ctx)
			cancel()
			_, err = b.sessions.CreateNewAuthenticatedSession(ctx, session.NewAuthenticatedSession{
				UserID: b.superadminUserID, AuthenticationStrategy: "native", ActiveChannelID: &ch,
			})
			require.Error(t, err)

			require.Zero(t, b.cache.Calls().Sets)
			require.Zero(t, b.mem.Len())
			require.Equal(t, before, b.countSessions(t))
		})
	})
}

func TestSessionService_ActiveOrderAndChannel(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("SetActiveOrder", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.newSession(t, b.superadminUserID)
			b.cache.Reset()
			b.clock.Advance(5 * time.Second)
			now := b.clock.Now()

			got, err := b.sessions.SetActiveOrder(b.ctx, cs, 42)
			require.NoError(t, err)
			require.Equal(t, idPtr(42), got.ActiveOrderID)
			require.Equal(t, cs.Token, got.Token)
			require.Equal(t, cs.ID, got.ID)
			require.NotNil(t, got.User)
			require.InDelta(t, unixSeconds(now.Add(time.Minute)), got.CacheExpiry, 1e-6)
			require.Nil(t, cs.ActiveOrderID, "the input is not modified")

			row := b.sessionRow(t, cs.Token)
			require.Equal(t, idPtr(42), row.ActiveOrderID)
			requireTimeEqual(t, now, row.UpdatedAt)

			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			cached := b.cache.Peek(b.ctx, session.HashToken(cs.Token))
			require.Equal(t, idPtr(42), cached.ActiveOrderID)

			// A lookup now returns the new order from the cache.
			found, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, idPtr(42), found.ActiveOrderID)
		})
	})

	t.Run("UnsetActiveOrderWithoutOrderIsNoop", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.cache.Reset()
			b.clock.Advance(time.Second)

			got, err := b.sessions.UnsetActiveOrder(b.ctx, cs)
			require.NoError(t, err)
			require.Same(t, cs, got)
			require.Equal(t, sessioncachetest.Calls{}, b.cache.Calls())
			requireTimeEqual(t, b.clock.Now().Add(-time.Second), b.sessionRow(t, cs.Token).UpdatedAt, "no write")
		})
	})

	t.Run("UnsetActiveOrder", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 42)
			require.NoError(t, err)
			b.cache.Reset()

			got, err := b.sessions.UnsetActiveOrder(b.ctx, cs)
			require.NoError(t, err)
			require.Nil(t, got.ActiveOrderID)
			require.Equal(t, cs.Token, got.Token)
			require.Nil(t, b.sessionRow(t, cs.Token).ActiveOrderID)
			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)).ActiveOrderID)
		})
	})

	t.Run("UpdateOfDeletedSessionReturnsInput", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			_, err := b.db.NewDelete().Model((*entity.Session)(nil)).Where("id = ?", cs.ID).Exec(b.ctx)
			require.NoError(t, err)
			b.cache.Reset()

			got, err := b.sessions.SetActiveOrder(b.ctx, cs, 42)
			require.NoError(t, err)
			require.Same(t, cs, got)
			got, err = b.sessions.SetActiveChannel(b.ctx, cs, b.defaultChannel.ID)
			require.NoError(t, err)
			require.Same(t, cs, got)
			require.Zero(t, b.cache.Calls().Sets)
			require.Zero(t, b.countSessions(t))
		})
	})

	t.Run("SetActiveChannel", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			cs := b.anonymous(t)
			b.cache.Reset()

			got, err := b.sessions.SetActiveChannel(b.ctx, cs, second.ID)
			require.NoError(t, err)
			require.Equal(t, idPtr(second.ID), got.ActiveChannelID)
			require.Equal(t, cs.Token, got.Token)
			require.Equal(t, idPtr(second.ID), b.sessionRow(t, cs.Token).ActiveChannelID)
			require.Equal(t, sessioncachetest.Calls{Sets: 1}, b.cache.Calls())
			require.Equal(t, idPtr(second.ID), b.cache.Peek(b.ctx, session.HashToken(cs.Token)).ActiveChannelID)
		})
	})

	t.Run("EnsureActiveChannelSameChannelIsNoop", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			cs := b.anonymous(t)
			b.cache.Reset()
			got, err := b.sessions.EnsureActiveChannel(b.ctx, cs, b.defaultChannel.ID)
			require.NoError(t, err)
			require.Same(t, cs, got)
			require.Equal(t, sessioncachetest.Calls{}, b.cache.Calls())
		})
	})

	customerChannels := func(t *testing.T, b *testBundle, userID, channelID entity.ID) int {
		t.Helper()
		n, err := b.db.NewSelect().Model((*entity.CustomerChannel)(nil)).
			Join("JOIN customer AS cu ON cu.id = cc.customer_id").
			Where("cu.user_id = ? AND cc.channel_id = ?", userID, channelID).Count(b.ctx)
		require.NoError(t, err)
		return int(n)
	}

	t.Run("EnsureActiveChannelAssignsCustomerIdempotently", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			cs := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			require.Equal(t, idPtr(b.defaultChannel.ID), cs.ActiveChannelID)
			require.Zero(t, customerChannels(t, b, uid, second.ID))
			b.cache.Reset()

			got, err := b.sessions.EnsureActiveChannel(b.ctx, cs, second.ID)
			require.NoError(t, err)
			require.Equal(t, idPtr(second.ID), got.ActiveChannelID)
			require.Equal(t, idPtr(second.ID), b.sessionRow(t, cs.Token).ActiveChannelID)
			require.Equal(t, idPtr(second.ID), b.cache.Peek(b.ctx, session.HashToken(cs.Token)).ActiveChannelID)
			require.Equal(t, 1, customerChannels(t, b, uid, second.ID))

			// Again with the old session object (as a concurrent request
			// would): no duplicate, no error.
			_, err = b.sessions.EnsureActiveChannel(b.ctx, cs, second.ID)
			require.NoError(t, err)
			require.Equal(t, 1, customerChannels(t, b, uid, second.ID))
			require.Equal(t, 1, customerChannels(t, b, uid, b.defaultChannel.ID))
		})
	})

	t.Run("EnsureActiveChannelConcurrent", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			cs := b.login(t, auth.ShopAPI, "c@example.com", "secret")

			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = b.sessions.EnsureActiveChannel(b.ctx, cs, second.ID)
				})
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, 1, customerChannels(t, b, uid, second.ID))
		})
	})

	t.Run("EnsureActiveChannelWithoutCustomer", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			admin := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			anon := b.anonymous(t)

			for _, cs := range []*sessioncache.CachedSession{admin, anon} {
				got, err := b.sessions.EnsureActiveChannel(b.ctx, cs, second.ID)
				require.NoError(t, err)
				require.Equal(t, idPtr(second.ID), got.ActiveChannelID)
			}
			n, err := b.db.NewSelect().Model((*entity.CustomerChannel)(nil)).Count(b.ctx)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	})
}

func TestSessionService_Deletions(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	t.Run("DeleteSessionsByUser", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			other := b.createCustomer(t, "other@example.com", "secret", true)
			mine := []string{b.newSession(t, b.superadminUserID).Token, b.newSession(t, b.superadminUserID).Token}
			kept := []string{b.newSession(t, other).Token, b.anonymous(t).Token}
			b.cache.Reset()

			require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, b.superadminUserID))

			var wantKeys []string
			for _, tok := range mine {
				require.Nil(t, b.sessionRow(t, tok))
				require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(tok)))
				wantKeys = append(wantKeys, session.HashToken(tok))
			}
			for _, tok := range kept {
				require.NotNil(t, b.sessionRow(t, tok))
				require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(tok)))
			}
			require.ElementsMatch(t, wantKeys, b.cache.DeleteKeys())
			require.Equal(t, sessioncachetest.Calls{Deletes: 2}, b.cache.Calls())

			// A user without sessions: nothing to do.
			b.cache.Reset()
			require.NoError(t, b.sessions.DeleteSessionsByUser(b.ctx, b.superadminUserID))
			require.Equal(t, sessioncachetest.Calls{}, b.cache.Calls())
		})
	})

	t.Run("DeleteSessionsByActiveOrderID", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			anon, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 7)
			require.NoError(t, err)
			authed, err := b.sessions.SetActiveOrder(b.ctx, b.newSession(t, b.superadminUserID), 7)
			require.NoError(t, err)
			otherOrder, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 8)
			require.NoError(t, err)
			noOrder := b.anonymous(t)
			b.cache.Reset()

			require.NoError(t, b.sessions.DeleteSessionsByActiveOrderID(b.ctx, 7))
			for _, cs := range []*sessioncache.CachedSession{anon, authed} {
				require.Nil(t, b.sessionRow(t, cs.Token))
				require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
			}
			for _, cs := range []*sessioncache.CachedSession{otherOrder, noOrder} {
				require.NotNil(t, b.sessionRow(t, cs.Token))
				require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
			}
			require.ElementsMatch(t, []string{session.HashToken(anon.Token), session.HashToken(authed.Token)}, b.cache.DeleteKeys())
		})
	})

	t.Run("ClearCache", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.anonymous(t)
			b.anonymous(t)
			require.Equal(t, 2, b.mem.Len())
			b.sessions.ClearCache(b.ctx)
			require.Zero(t, b.mem.Len())
			require.Equal(t, 1, b.cache.Calls().Clears)
			require.Equal(t, 2, b.countSessions(t), "the rows stay")
		})
	})
}

func TestSessionService_CleanExpiredSessions(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute, CacheSize: 4000}

	// cacheAll puts an entry for each token straight into the cache.
	cacheAll := func(t *testing.T, b *testBundle, tokens ...string) {
		t.Helper()
		for _, tok := range tokens {
			require.NoError(t, b.mem.Set(b.ctx, session.HashToken(tok), &sessioncache.CachedSession{
				CacheExpiry: unixSeconds(b.clock.Now().Add(time.Minute)), Expires: b.clock.Now().Add(time.Hour),
			}, b.mem.Generation()))
		}
	}

	t.Run("RemovesExpiredAndIdleAnonymous", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()
			uid := b.superadminUserID
			native := "native"
			order := entity.ID(77)
			week := session.DefaultAnonymousIdleTimeout
			require.Equal(t, 7*24*time.Hour, week)

			removed := map[string]entity.Session{
				"expiredAnonymous":          {Expires: now.Add(-time.Second)},
				"expiredAnonymousWithOrder": {Expires: now.Add(-time.Second), ActiveOrderID: &order},
				"expiredAuthenticated": {
					Type: entity.SessionAuthenticated, UserID: &uid, AuthenticationStrategy: &native,
					Expires: now.Add(-time.Minute),
				},
				"idleAnonymous": {UpdatedAt: now.Add(-week - time.Second), Expires: now.Add(oneYear)},
			}
			kept := map[string]entity.Session{
				"idleAnonymousWithOrder": {UpdatedAt: now.Add(-8 * 24 * time.Hour), Expires: now.Add(oneYear), ActiveOrderID: &order},
				"recentAnonymous":        {UpdatedAt: now.Add(-6 * 24 * time.Hour), Expires: now.Add(oneYear)},
				"anonymousIdleExactly7d": {UpdatedAt: now.Add(-week), Expires: now.Add(oneYear)},
				"idleAuthenticated": {
					Type: entity.SessionAuthenticated, UserID: &uid, AuthenticationStrategy: &native,
					UpdatedAt: now.Add(-30 * 24 * time.Hour), Expires: now.Add(time.Hour),
				},
				"freshAnonymous": {},
			}
			tokens := map[string]string{}
			for name, row := range removed {
				tokens[name] = b.insertSession(t, row)
			}
			for name, row := range kept {
				tokens[name] = b.insertSession(t, row)
			}
			for _, tok := range tokens {
				cacheAll(t, b, tok)
			}

			n, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
			require.NoError(t, err)
			require.Equal(t, len(removed), n)

			var wantKeys []string
			for name := range removed {
				require.Nil(t, b.sessionRow(t, tokens[name]), name)
				require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(tokens[name])), name)
				wantKeys = append(wantKeys, session.HashToken(tokens[name]))
			}
			for name := range kept {
				require.NotNil(t, b.sessionRow(t, tokens[name]), name)
				require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(tokens[name])), name)
			}
			require.ElementsMatch(t, wantKeys, b.cache.DeleteKeys())

			// Nothing left to clean.
			n, err = b.sessions.CleanExpiredSessions(b.ctx, 1000)
			require.NoError(t, err)
			require.Zero(t, n)
		})
	})

	t.Run("RemovesEveryBatchInOneCall", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			now := b.clock.Now()

			const victims = 2500
			rows := make([]entity.Session, victims)
			victimTokens := make([]string, victims)
			wantKeys := make([]string, victims)
			for i := range rows {
				victimTokens[i] = randomToken(t)
				wantKeys[i] = session.HashToken(victimTokens[i])
				expires := now.Add(-time.Duration(i+1) * time.Second)
				if i%2 == 1 { // idle anonymous rather than expired
					expires = now.Add(time.Hour)
					rows[i].UpdatedAt = now.Add(-8 * 24 * time.Hour)
				}
				rows[i].Expires = expires
				fillSession(&rows[i], victimTokens[i], now)
			}
			_, err := b.db.NewInsert().Model(&rows).Exec(b.ctx)
			require.NoError(t, err)
			keptTokens := []string{b.anonymous(t).Token, b.newSession(t, b.superadminUserID).Token}
			cacheAll(t, b, victimTokens...)
			require.Equal(t, victims+len(keptTokens), b.mem.Len())
			b.cache.Reset()

			n, err := b.sessions.CleanExpiredSessions(b.ctx, 1000)
			require.NoError(t, err)
			require.Equal(t, victims, n)
			require.Equal(t, len(keptTokens), b.countSessions(t))
			for _, tok := range keptTokens {
				require.NotNil(t, b.sessionRow(t, tok))
			}
			require.ElementsMatch(t, wantKeys, b.cache.DeleteKeys())
			require.Equal(t, len(keptTokens), b.mem.Len())
		})
	})

	t.Run("ExactMultipleOfBatchSize", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			for range 6 {
				b.insertSession(t, entity.Session{Expires: b.clock.Now().Add(-time.Second)})
			}
			n, err := b.sessions.CleanExpiredSessions(b.ctx, 3)
			require.NoError(t, err)
			require.Equal(t, 6, n)
			require.Zero(t, b.countSessions(t))
		})
	})

	t.Run("RejectsBadBatchSize", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.insertSession(t, entity.Session{Expires: b.clock.Now().Add(-time.Second)})
			for _, size := range []int{0, -1} {
				n, err := b.sessions.CleanExpiredSessions(b.ctx, size)
				require.Error(t, err)
				require.Zero(t, n)
			}
			require.Equal(t, 1, b.countSessions(t))
		})
	})
}
