package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service"
	"github.com/shopsession/sessionserver/sessioncache"
)

// requireInvalidCredentials checks a failed native login.
func requireInvalidCredentials(t *testing.T, cs *sessioncache.CachedSession, err error, msgAndArgs ...any) {
	t.Helper()
	require.Nil(t, cs, msgAndArgs...)
	var invalid *service.InvalidCredentialsError
	require.ErrorAs(t, err, &invalid, msgAndArgs...)
	require.Empty(t, invalid.AuthenticationError, msgAndArgs...)
	require.Equal(t, "The provided credentials are invalid", err.Error())
}

func TestAuthService_Authenticate(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T, db *bun.DB) *testBundle {
		t.Helper()
		return newTestBundle(t, db, bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute})
	}

	t.Run("SuperadminOnAdminAPI", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			now := b.clock.Now()
			cs, err := b.authenticate(auth.AdminAPI, superadminLogin, superadminPassword, nil)
			require.NoError(t, err)
			require.Regexp(t, `^[0-9a-f]{64}$`, cs.Token)
			require.Equal(t, service.NativeStrategyName, cs.AuthenticationStrategy)
			require.Equal(t, superadminLogin, cs.User.Identifier)
			require.Equal(t, b.superadminUserID, cs.User.ID)
			require.True(t, cs.User.IsAdministrator)
			require.Equal(t, idPtr(b.defaultChannel.ID), cs.ActiveChannelID)
			require.Nil(t, cs.ActiveOrderID)
			requireTimeEqual(t, now.Add(time.Hour), cs.Expires)

			// One cache entry, written once (Vendure e2e session-management 1).
			require.Equal(t, cacheCounts{Sets: 1}, b.cache.counts())
			require.Equal(t, 1, b.cache.len())
			row := b.sessionRow(t, cs.Token)
			require.Equal(t, entity.SessionAuthenticated, row.Type)
			require.Equal(t, "native", *row.AuthenticationStrategy)

			// The lookup that follows is served by the cache (e2e 2).
			b.cache.reset()
			_, err = b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, cacheCounts{Gets: 1}, b.cache.counts())
		})
	})

	t.Run("NonEmailIdentifierIsExact", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			for _, name := range []string{"SuperAdmin", "SUPERADMIN", "superadmi", "superadmin2"} {
				cs, err := b.authenticate(auth.AdminAPI, name, superadminPassword, nil)
				requireInvalidCredentials(t, cs, err, name)
			}
			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.counts().Sets)
		})
	})

	t.Run("WrongAPI", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			b.createCustomer(t, "customer@example.com", "secret", true)

			cs, err := b.authenticate(auth.AdminAPI, "customer@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err, "customer on the Admin API")
			cs, err = b.authenticate(auth.ShopAPI, superadminLogin, superadminPassword, nil)
			requireInvalidCredentials(t, cs, err, "superadmin on the Shop API")
			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.counts().Sets)
		})
	})

	t.Run("SameEmailAdministratorAndCustomer", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			const email = "shared@example.com"
			role := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			adminID := b.createAdmin(t, email, "password-A", role)
			customerID := b.createCustomer(t, email, "password-C", true)
			require.NotEqual(t, adminID, customerID)

			admin, err := b.authenticate(auth.AdminAPI, email, "password-A", nil)
			require.NoError(t, err)
			require.Equal(t, adminID, admin.User.ID)
			require.Equal(t, email, admin.User.Identifier)
			require.True(t, admin.User.IsAdministrator)

			shop, err := b.authenticate(auth.ShopAPI, email, "password-C", nil)
			require.NoError(t, err)
			require.Equal(t, customerID, shop.User.ID)
			require.False(t, shop.User.IsAdministrator)

			cs, err := b.authenticate(auth.AdminAPI, email, "password-C", nil)
			requireInvalidCredentials(t, cs, err, "admin with the customer's password")
			cs, err = b.authenticate(auth.ShopAPI, email, "password-A", nil)
			requireInvalidCredentials(t, cs, err, "shop with the admin's password")
		})
	})

	t.Run("EmailComparedLowerCased", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			uid := b.createCustomer(t, "Mixed.Case@Example.COM", "secret", true)
			require.Equal(t, "mixed.case@example.com", b.userRow(t, uid).Identifier)

			for _, name := range []string{"MIXED.CASE@EXAMPLE.COM", "mixed.case@example.com", "Mixed.Case@Example.COM", "  Mixed.Case@example.com "} {
				cs, err := b.authenticate(auth.ShopAPI, name, "secret", nil)
				require.NoError(t, err, name)
				require.Equal(t, uid, cs.User.ID)
				require.Equal(t, "mixed.case@example.com", cs.User.Identifier)
			}

			// A legacy row stored with capitals still matches.
			_, err := b.db.NewUpdate().Model((*entity.User)(nil)).Set("identifier = ?", "Legacy.User@Example.com").
				Where("id = ?", uid).Exec(b.ctx)
			require.NoError(t, err)
			cs, err := b.authenticate(auth.ShopAPI, "legacy.user@EXAMPLE.com", "secret", nil)
			require.NoError(t, err)
			require.Equal(t, uid, cs.User.ID)
		})
	})

	t.Run("Verification", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := newTestBundle(t, db, bundleOpts{RequireVerification: true})
			b.createCustomer(t, "new@example.com", "secret", false)
			b.createCustomer(t, "verified@example.com", "secret", true)
			externalID := b.createCustomer(t, "sso@example.com", "secret", false)
			strategy := "test_sso"
			_, err := b.db.NewInsert().Model(&entity.AuthenticationMethod{
				CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now(), UserID: externalID,
				Type: entity.AuthMethodExternal, Strategy: &strategy,
			}).Exec(b.ctx)
			require.NoError(t, err)

			cs, err := b.authenticate(auth.ShopAPI, "new@example.com", "secret", nil)
			require.Nil(t, cs)
			var notVerified *service.NotVerifiedError
			require.ErrorAs(t, err, &notVerified)
			require.Equal(t, "Please verify this email address before logging in", err.Error())
			require.Zero(t, b.countSessions(t))

			// A wrong password is still InvalidCredentials, not NotVerified.
			cs, err = b.authenticate(auth.ShopAPI, "new@example.com", "wrong", nil)
			requireInvalidCredentials(t, cs, err)

			_, err = b.authenticate(auth.ShopAPI, "verified@example.com", "secret", nil)
			require.NoError(t, err)
			// A user with an external authentication method is exempt.
			_, err = b.authenticate(auth.ShopAPI, "sso@example.com", "secret", nil)
			require.NoError(t, err)
		})
	})

	t.Run("UnverifiedAllowedWithoutRequireVerification", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := newTestBundle(t, db, bundleOpts{RequireVerification: false})
			uid := b.createCustomer(t, "new@example.com", "secret", false)
			cs, err := b.authenticate(auth.ShopAPI, "new@example.com", "secret", nil)
			require.NoError(t, err)
			require.Equal(t, uid, cs.User.ID)
			require.False(t, cs.User.Verified)
		})
	})

	t.Run("CustomerWithoutPassword", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			// Deferred-password registration: INVALID_CREDENTIALS, even when
			// verification is required and the user is unverified.
			b := newTestBundle(t, db, bundleOpts{RequireVerification: true})
			b.createCustomer(t, "nopass@example.com", "", false)
			b.createCustomer(t, "nopass.verified@example.com", "", true)
			for _, name := range []string{"nopass@example.com", "nopass.verified@example.com"} {
				for _, pw := range []string{"", "secret"} {
					cs, err := b.authenticate(auth.ShopAPI, name, pw, nil)
					requireInvalidCredentials(t, cs, err, name, pw)
				}
			}
		})
	})

	t.Run("WrongPasswordUnknownUserOrMethod", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			b.createCustomer(t, "c@example.com", "secret", true)

			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "Secret", nil)
			requireInvalidCredentials(t, cs, err, "wrong password")
			cs, err = b.authenticate(auth.AdminAPI, superadminLogin, "wrong", nil)
			requireInvalidCredentials(t, cs, err, "wrong superadmin password")
			cs, err = b.authenticate(auth.ShopAPI, "nobody@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err, "unknown user")

			cs, err = b.auth.Authenticate(b.ctx, service.LoginRequest{
				API: auth.ShopAPI, Method: "other", ChannelID: b.defaultChannel.ID,
				Native: &service.Credentials{Username: "c@example.com", Password: "secret"},
			})
			requireInvalidCredentials(t, cs, err, "unknown method")
			cs, err = b.auth.Authenticate(b.ctx, service.LoginRequest{
				API: auth.ShopAPI, Method: service.NativeStrategyName, ChannelID: b.defaultChannel.ID,
			})
			requireInvalidCredentials(t, cs, err, "no native input")

			require.Zero(t, b.countSessions(t))
			require.Zero(t, b.cache.counts().Sets)
		})
	})

	t.Run("SoftDeletedProfileCannotLogIn", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			_, err := b.db.NewUpdate().Model((*entity.Customer)(nil)).Set("deleted_at = ?", b.clock.Now()).
				Where("user_id = ?", uid).Exec(b.ctx)
			require.NoError(t, err)
			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err)
		})
	})

	t.Run("RecordsLastLogin", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			require.Nil(t, b.userRow(t, uid).LastLogin)

			// A failed login records nothing.
			b.clock.Advance(time.Minute)
			_, err := b.authenticate(auth.ShopAPI, "c@example.com", "wrong", nil)
			require.Error(t, err)
			require.Nil(t, b.userRow(t, uid).LastLogin)

			b.clock.Advance(time.Minute)
			b.login(t, auth.ShopAPI, "c@example.com", "secret")
			u := b.userRow(t, uid)
			require.NotNil(t, u.LastLogin)
			requireTimeEqual(t, b.clock.Now(), *u.LastLogin)

			b.clock.Advance(time.Hour)
			b.login(t, auth.ShopAPI, "c@example.com", "secret")
			requireTimeEqual(t, b.clock.Now(), *b.userRow(t, uid).LastLogin)
		})
	})

	t.Run("ActiveOrderPassesToNewSession", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			b.createCustomer(t, "c@example.com", "secret", true)
			guest, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 55)
			require.NoError(t, err)
			// Another session that holds the same order (e.g. a previous login).
			sameOrder, err := b.sessions.SetActiveOrder(b.ctx, b.newSession(t, b.superadminUserID), 55)
			require.NoError(t, err)
			otherOrder, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 56)
			require.NoError(t, err)
			b.cache.reset()

			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "secret", guest)
			require.NoError(t, err)
			require.Equal(t, idPtr(55), cs.ActiveOrderID)
			row := b.sessionRow(t, cs.Token)
			require.Equal(t, idPtr(55), row.ActiveOrderID)

			require.Nil(t, b.sessionRow(t, guest.Token))
			require.Nil(t, b.sessionRow(t, sameOrder.Token))
			require.NotNil(t, b.sessionRow(t, otherOrder.Token))
			require.ElementsMatch(t, []string{service.HashToken(guest.Token), service.HashToken(sameOrder.Token)},
				b.cache.deleteKeyList())
			require.Nil(t, b.cache.peek(service.HashToken(guest.Token)))
			require.NotNil(t, b.cache.peek(service.HashToken(otherOrder.Token)))
			require.Equal(t, []string{service.HashToken(cs.Token)}, b.cache.setKeyList())

			// The old guest token is dead.
			_, err = b.sessions.GetSessionFromToken(b.ctx, guest.Token)
			require.ErrorIs(t, err, service.ErrNotFound)
		})
	})

	t.Run("CurrentSessionWithoutOrderIsKept", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			guest := b.anonymous(t)
			b.cache.reset()
			cs, err := b.authenticate(auth.AdminAPI, superadminLogin, superadminPassword, guest)
			require.NoError(t, err)
			require.Nil(t, cs.ActiveOrderID)
			require.NotNil(t, b.sessionRow(t, guest.Token))
			require.Zero(t, b.cache.counts().Deletes)
		})
	})

	t.Run("FailedLoginKeepsGuestSession", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			guest, err := b.sessions.SetActiveOrder(b.ctx, b.anonymous(t), 55)
			require.NoError(t, err)
			_, err = b.authenticate(auth.AdminAPI, superadminLogin, "wrong", guest)
			require.Error(t, err)
			require.NotNil(t, b.sessionRow(t, guest.Token))
		})
	})
}

func TestAuthService_DestroyAuthenticatedSession(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T, db *bun.DB) *testBundle {
		t.Helper()
		return newTestBundle(t, db, bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute})
	}

	t.Run("DeletesEverySessionOfTheUser", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			b.createCustomer(t, "c@example.com", "secret", true)
			laptop := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			phone := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			other := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			anon := b.anonymous(t)
			b.cache.reset()

			require.NoError(t, b.auth.DestroyAuthenticatedSession(b.ctx, laptop.Token))

			for _, cs := range []*sessioncache.CachedSession{laptop, phone} {
				require.Nil(t, b.sessionRow(t, cs.Token))
				require.Nil(t, b.cache.peek(service.HashToken(cs.Token)))
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.ErrorIs(t, err, service.ErrNotFound)
			}
			require.ElementsMatch(t, []string{service.HashToken(laptop.Token), service.HashToken(phone.Token)},
				b.cache.deleteKeyList())
			for _, cs := range []*sessioncache.CachedSession{other, anon} {
				require.NotNil(t, b.sessionRow(t, cs.Token))
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err)
			}
		})
	})

	t.Run("AnonymousUnknownOrEmptyTokenDeletesNothing", func(t *testing.T) {
		t.Parallel()
		testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
			t.Parallel()
			b := setup(t, db)
			anon := b.anonymous(t)
			admin := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			b.cache.reset()

			for _, tok := range []string{anon.Token, randomToken(t), "", "short", string(make([]byte, 4096))} {
				require.NoError(t, b.auth.DestroyAuthenticatedSession(b.ctx, tok))
			}
			require.NotNil(t, b.sessionRow(t, anon.Token))
			require.NotNil(t, b.sessionRow(t, admin.Token))
			require.Equal(t, 2, b.countSessions(t))
			require.Zero(t, b.cache.counts().Deletes)
		})
	})
}

func TestNewAuthService(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		b := newTestBundle(t, db, bundleOpts{})
		// Defaults for Logger and NowFunc.
		a, err := service.NewAuthService(service.AuthConfig{DB: db, Sessions: b.sessions, Hasher: b.hasher})
		require.NoError(t, err)
		cs, err := a.Authenticate(b.ctx, service.LoginRequest{
			API: auth.AdminAPI, Method: service.NativeStrategyName, ChannelID: b.defaultChannel.ID,
			Native: &service.Credentials{Username: superadminLogin, Password: superadminPassword},
		})
		require.NoError(t, err)
		require.NotNil(t, b.userRow(t, cs.User.ID).LastLogin)
	})
}
