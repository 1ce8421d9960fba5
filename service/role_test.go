package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

func TestRoleService(t *testing.T) {
	t.Parallel()

	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}

	rolePermissions := func(t *testing.T, b *testBundle, id entity.ID) entity.StringList {
		t.Helper()
		r := new(entity.Role)
		require.NoError(t, b.db.NewSelect().Model(r).Where("id = ?", id).Scan(b.ctx))
		return r.Permissions
	}
	countRoles := func(t *testing.T, b *testBundle) int {
		t.Helper()
		n, err := b.db.NewSelect().Model((*entity.Role)(nil)).Count(b.ctx)
		require.NoError(t, err)
		return int(n)
	}

	t.Run("CreateDuplicate", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
			roles, hooks := countRoles(t, b), b.hook.count()
			_, err := b.roles.Create(b.ctx, access.NewRole{Code: "editor", Description: "again", ChannelIDs: []entity.ID{b.defaultChannel.ID}})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			require.Equal(t, roles, countRoles(t, b))
			require.Equal(t, hooks, b.hook.count(), "a refused create changes no access")
		})
	})

	t.Run("CreatePrependsAuthenticated", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			hooks := b.hook.count()

			r, err := b.roles.Create(b.ctx, access.NewRole{
				Code: "editor", Description: "Editor",
				Permissions: []auth.Permission{"ReadCatalog", auth.Authenticated, "ReadCatalog", "UpdateCatalog"},
				ChannelIDs:  []entity.ID{b.defaultChannel.ID, second.ID},
			})
			require.NoError(t, err)
			require.Equal(t, entity.StringList{"Authenticated", "ReadCatalog", "UpdateCatalog"}, r.Permissions)
			require.Equal(t, entity.StringList{"Authenticated", "ReadCatalog", "UpdateCatalog"}, rolePermissions(t, b, r.ID))
			require.Equal(t, hooks+1, b.hook.count())

			var channels []entity.ID
			require.NoError(t, b.db.NewSelect().Model((*entity.RoleChannel)(nil)).Column("channel_id").
				Where("role_id = ?", r.ID).Order("channel_id").Scan(b.ctx, &channels))
			require.Equal(t, []entity.ID{b.defaultChannel.ID, second.ID}, channels)

			empty, err := b.roles.Create(b.ctx, access.NewRole{Code: "empty"})
			require.NoError(t, err)
			require.Equal(t, entity.StringList{"Authenticated"}, rolePermissions(t, b, empty.ID))
		})
	})

	t.Run("CreateRejects", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			b.createRole(t, "taken", nil)
			hooks, roles := b.hook.count(), countRoles(t, b)

			for _, p := range []auth.Permission{auth.Owner, auth.Public, "Bogus", ""} {
				_, err := b.roles.Create(b.ctx, access.NewRole{Code: "bad", Permissions: []auth.Permission{"ReadCatalog", p}})
				require.Error(t, err, "permission %q", p)
			}
			_, err := b.roles.Create(b.ctx, access.NewRole{Code: "taken"})
			require.Error(t, err, "duplicate code")
			_, err = b.roles.Create(b.ctx, access.NewRole{Code: "nochannel", ChannelIDs: []entity.ID{999999}})
			require.Error(t, err, "unknown channel")

			require.Equal(t, hooks, b.hook.count())
			require.Equal(t, roles, countRoles(t, b), "nothing committed")
		})
	})

	t.Run("UpdatePermissions", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			id := b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
			hooks := b.hook.count()
			b.clock.Advance(time.Minute)

			require.NoError(t, b.roles.UpdatePermissions(b.ctx, id, []auth.Permission{"ReadOrder", "ReadOrder", "UpdateOrder"}))
			require.Equal(t, entity.StringList{"Authenticated", "ReadOrder", "UpdateOrder"}, rolePermissions(t, b, id))
			require.Equal(t, hooks+1, b.hook.count())

			require.Error(t, b.roles.UpdatePermissions(b.ctx, id, []auth.Permission{auth.Owner}))
			require.Error(t, b.roles.UpdatePermissions(b.ctx, id, []auth.Permission{"Bogus"}))
			require.ErrorIs(t, b.roles.UpdatePermissions(b.ctx, 999999, []auth.Permission{"ReadOrder"}), outcome.ErrNotFound)
			require.Equal(t, hooks+1, b.hook.count())
			require.Equal(t, entity.StringList{"Authenticated", "ReadOrder", "UpdateOrder"}, rolePermissions(t, b, id))
		})
	})

	t.Run("Delete", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			id := b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
			uid := b.createAdmin(t, "editor@example.com", "secret", id)
			hooks := b.hook.count()

			require.NoError(t, b.roles.Delete(b.ctx, id))
			require.Equal(t, hooks+1, b.hook.count())
			n, err := b.db.NewSelect().Model((*entity.Role)(nil)).Where("id = ?", id).Count(b.ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			n, err = b.db.NewSelect().Model((*entity.UserRole)(nil)).Where("user_id = ?", uid).Count(b.ctx)
			require.NoError(t, err)
			require.Zero(t, n, "assignments go with the role")

			require.ErrorIs(t, b.roles.Delete(b.ctx, id), outcome.ErrNotFound)
			require.Equal(t, hooks+1, b.hook.count())
		})
	})

	t.Run("BuiltInRolesCannotBeDeleted", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			for _, id := range []entity.ID{b.superRoleID, b.customerRoleID} {
				require.Error(t, b.roles.Delete(b.ctx, id))
			}
			require.Zero(t, b.hook.count())
			require.Equal(t, 2, countRoles(t, b))
		})
	})

	t.Run("BuiltInRolesCannotBeModified", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			superErr := b.roles.UpdatePermissions(b.ctx, b.superRoleID, []auth.Permission{"ReadCatalog"})
			customerErr := b.roles.UpdatePermissions(b.ctx, b.customerRoleID, []auth.Permission{"ReadCatalog"})
			require.ErrorIs(t, superErr, outcome.ErrCannotModifyRole)
			require.ErrorIs(t, customerErr, outcome.ErrCannotModifyRole)
			require.Zero(t, b.hook.count())
			require.Equal(t, auth.Assignable(), toPermissions(rolePermissions(t, b, b.superRoleID)))
			require.Equal(t, entity.StringList{"Authenticated"}, rolePermissions(t, b, b.customerRoleID))
		})
	})

	t.Run("AppWiringClearsSessionCache", func(t *testing.T) {
		eachDB(t, bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute, HookClearsCache: true}, func(t *testing.T, b *testBundle) {
			id := b.createRole(t, "editor", []auth.Permission{"ReadCatalog"})
			b.createAdmin(t, "editor@example.com", "secret", id)
			cs := b.login(t, auth.AdminAPI, "editor@example.com", "secret")
			b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.Equal(t, 2, b.mem.Len())
			b.cache.Reset()

			require.NoError(t, b.roles.UpdatePermissions(b.ctx, id, []auth.Permission{"ReadOrder"}))
			require.Zero(t, b.mem.Len())
			require.Equal(t, sessioncachetest.Calls{Clears: 1}, b.cache.Calls())

			// The next lookup reads the new permissions (no TTL wait).
			got, err := b.sessions.GetSessionFromToken(b.ctx, cs.Token)
			require.NoError(t, err)
			require.Equal(t, []auth.Permission{"Authenticated", "ReadOrder"}, got.PermissionsOn(b.defaultChannel.ID).List())

			b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.NotZero(t, b.mem.Len())
			extra := b.createRole(t, "extra", nil)
			require.Zero(t, b.mem.Len(), "Create clears")
			b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			require.NoError(t, b.roles.Delete(b.ctx, extra))
			require.Zero(t, b.mem.Len(), "Delete clears")
		})
	})
}
