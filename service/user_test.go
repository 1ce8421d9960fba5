package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

func TestNormalizeIdentifier(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Foo@Example.COM":     "foo@example.com",
		"  Foo@Example.COM  ": "foo@example.com",
		"SuperAdmin":          "SuperAdmin",
		" SuperAdmin ":        "SuperAdmin",
		"":                    "",
	} {
		require.Equal(t, want, auth.NormalizeIdentifier(in), "%q", in)
	}
}

func TestUserService(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	userRoles := func(t *testing.T, b *testBundle, uid entity.ID) []entity.ID {
		t.Helper()
		var ids []entity.ID
		require.NoError(t, b.db.NewSelect().Model((*entity.UserRole)(nil)).Column("role_id").
			Where("user_id = ?", uid).Order("role_id").Scan(b.ctx, &ids))
		return ids
	}

	t.Run("CreateAdministrator", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			role := b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
			adm, err := b.users.CreateAdministrator(b.ctx, access.NewAdministrator{
				EmailAddress: "New.Admin@Example.com", Password: "secret", FirstName: "New", LastName: "Admin",
				RoleIDs: []entity.ID{role},
			})
			require.NoError(t, err)
			require.Equal(t, "new.admin@example.com", adm.EmailAddress)
			u := b.userRow(t, adm.UserID)
			require.Equal(t, "new.admin@example.com", u.Identifier)
			require.True(t, u.Verified)
			require.Equal(t, []entity.ID{role}, userRoles(t, b, adm.UserID))

			var am entity.AuthenticationMethod
			require.NoError(t, b.db.NewSelect().Model(&am).Where("user_id = ?", adm.UserID).Scan(b.ctx))
			require.Equal(t, entity.AuthMethodNative, am.Type)
			require.NotNil(t, am.PasswordHash)
			require.NotContains(t, *am.PasswordHash, "secret")
			ok, err := b.hasher.Check(b.ctx, *am.PasswordHash, "secret")
			require.NoError(t, err)
			require.True(t, ok)

			got, err := b.users.ActiveAdministrator(b.ctx, adm.UserID)
			require.NoError(t, err)
			require.Equal(t, adm.ID, got.ID)
			_, err = b.users.ActiveCustomer(b.ctx, adm.UserID)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("CreateCustomer", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			c, err := b.users.CreateCustomer(b.ctx, access.NewCustomer{
				EmailAddress: "Shopper@Example.com", FirstName: "S", LastName: "H",
				ChannelIDs: []entity.ID{b.defaultChannel.ID, second.ID},
			})
			require.NoError(t, err)
			require.Equal(t, "shopper@example.com", c.EmailAddress)
			u := b.userRow(t, *c.UserID)
			require.False(t, u.Verified)
			require.Equal(t, []entity.ID{b.customerRoleID}, userRoles(t, b, u.ID))

			var am entity.AuthenticationMethod
			require.NoError(t, b.db.NewSelect().Model(&am).Where("user_id = ?", u.ID).Scan(b.ctx))
			require.Nil(t, am.PasswordHash, "no password yet")

			n, err := b.db.NewSelect().Model((*entity.CustomerChannel)(nil)).Where("customer_id = ?", c.ID).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)

			got, err := b.users.ActiveCustomer(b.ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			_, err = b.users.ActiveAdministrator(b.ctx, u.ID)
			require.ErrorIs(t, err, outcome.ErrNotFound)
		})
	})

	t.Run("CreateRejectsInvalidPassword", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			_, err := b.users.CreateCustomer(b.ctx, access.NewCustomer{EmailAddress: "a@example.com", Password: "abc"})
			require.ErrorIs(t, err, password.ErrInvalid)
			_, err = b.users.CreateAdministrator(b.ctx, access.NewAdministrator{EmailAddress: "b@example.com", Password: "abc"})
			require.ErrorIs(t, err, password.ErrInvalid)
			_, err = b.users.CreateCustomer(b.ctx, access.NewCustomer{EmailAddress: "  "})
			require.Error(t, err, "identifier is required")
			n, err := b.db.NewSelect().Model((*entity.User)(nil)).Count(b.ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "only the superadmin")
		})
	})

	t.Run("SetRolesEvictsCachedSessions", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			reader := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			writer := b.createRole(t, "writer", []auth.Permission{"UpdateCatalog", "ReadOrder"})
			uid := b.createAdmin(t, "editor@example.com", "secret", reader)
			laptop := b.login(t, auth.AdminAPI, "editor@example.com", "secret")
			phone := b.login(t, auth.AdminAPI, "editor@example.com", "secret")
			other := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.Equal(t, []auth.Permission{"Authenticated", "ReadCatalog"}, laptop.PermissionsOn(b.defaultChannel.ID).List())
			b.cache.Reset()

			require.NoError(t, b.users.SetRoles(b.ctx, uid, []entity.ID{writer}))
			require.Equal(t, []entity.ID{writer}, userRoles(t, b, uid))
			require.ElementsMatch(t, []string{session.HashToken(laptop.Token), session.HashToken(phone.Token)},
				b.cache.DeleteKeys())
			require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(other.Token)))

			// The next lookup, without waiting for the TTL, sees the new role.
			for _, cs := range []*sessioncache.CachedSession{laptop, phone} {
				got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err)
				require.Equal(t, []auth.Permission{"Authenticated", "UpdateCatalog", "ReadOrder"}, got.PermissionsOn(b.defaultChannel.ID).List())
			}

			// No roles at all: no channel permissions.
			require.NoError(t, b.users.SetRoles(b.ctx, uid, nil))
			got, err := b.sessions.GetSessionFromToken(b.ctx, laptop.Token)
			require.NoError(t, err)
			require.Zero(t, got.User.ChannelPermissions.Len())
			require.Nil(t, got.PermissionsOn(b.defaultChannel.ID).List())
		})
	})

	t.Run("SetRolesFailureKeepsRolesAndCache", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			reader := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			uid := b.createAdmin(t, "editor@example.com", "secret", reader)
			cs := b.login(t, auth.AdminAPI, "editor@example.com", "secret")
			b.cache.Reset()

			require.Error(t, b.users.SetRoles(b.ctx, uid, []entity.ID{999999}))
			require.Equal(t, []entity.ID{reader}, userRoles(t, b, uid), "rolled back")
			require.Zero(t, b.cache.Calls().Deletes)
			require.NotNil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
		})
	})

	t.Run("SoftDeleteCustomer", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			uid := b.createCustomer(t, "c@example.com", "secret", true)
			first := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			second := b.login(t, auth.ShopAPI, "c@example.com", "secret")
			other := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			anon := b.anonymous(t)
			b.cache.Reset()
			b.clock.Advance(time.Minute)

			require.NoError(t, b.users.SoftDelete(b.ctx, uid))

			for _, cs := range []*sessioncache.CachedSession{first, second} {
				require.Nil(t, b.sessionRow(t, cs.Token))
				require.Nil(t, b.cache.Peek(b.ctx, session.HashToken(cs.Token)))
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.ErrorIs(t, err, outcome.ErrNotFound)
			}
			require.ElementsMatch(t, []string{session.HashToken(first.Token), session.HashToken(second.Token)}, b.cache.DeleteKeys())
			for _, cs := range []*sessioncache.CachedSession{other, anon} {
				_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
				require.NoError(t, err)
			}

			u := b.userRow(t, uid)
			require.NotNil(t, u.DeletedAt)
			requireTimeEqual(t, b.clock.Now(), *u.DeletedAt)
			var c entity.Customer
			require.NoError(t, b.db.NewSelect().Model(&c).Where("user_id = ?", uid).Scan(b.ctx))
			require.NotNil(t, c.DeletedAt)
			_, err := b.users.ActiveCustomer(b.ctx, uid)
			require.ErrorIs(t, err, outcome.ErrNotFound)

			cs, err := b.authenticate(auth.ShopAPI, "c@example.com", "secret", nil)
			requireInvalidCredentials(t, cs, err)

			require.ErrorIs(t, b.users.SoftDelete(b.ctx, uid), outcome.ErrNotFound)
			require.ErrorIs(t, b.users.SoftDelete(b.ctx, 999999), outcome.ErrNotFound)

			// The address can be registered again; the new customer logs in.
			newID := b.createCustomer(t, "c@example.com", "other-secret", true)
			got := b.login(t, auth.ShopAPI, "c@example.com", "other-secret")
			require.Equal(t, newID, got.User.ID)
		})
	})

	t.Run("SoftDeleteAdministrator", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			role := b.createRole(t, "reader", []auth.Permission{"ReadCatalog"})
			uid := b.createAdmin(t, "admin@example.com", "secret", role)
			cs := b.login(t, auth.AdminAPI, "admin@example.com", "secret")

			require.NoError(t, b.users.SoftDelete(b.ctx, uid))
			_, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			_, err = b.users.ActiveAdministrator(b.ctx, uid)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			got, err := b.authenticate(auth.AdminAPI, "admin@example.com", "secret", nil)
			requireInvalidCredentials(t, got, err)
		})
	})
}
