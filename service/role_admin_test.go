package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/outcome"
)

// grantsOf is an access.Grants: the permissions held on each channel.
type grantsOf map[entity.ID][]auth.Permission

func (g grantsOf) PermissionsOn(channelID entity.ID) auth.Granted { return auth.Grant(g[channelID]) }

// callerOn is a caller on the given channel holding grants.
func callerOn(channelID entity.ID, g grantsOf) access.Caller {
	return access.Caller{Grants: g, ChannelID: channelID}
}

// requireInputError: err is outcome.ErrInvalidInput and its text ends with
// the client's message.
func requireInputError(t *testing.T, err error, msg string) {
	t.Helper()
	require.ErrorIs(t, err, outcome.ErrInvalidInput)
	require.Equal(t, "invalid input: "+msg, err.Error())
}

func roleChannelIDs(r *entity.Role) []entity.ID {
	out := []entity.ID{}
	for _, ch := range r.Channels {
		out = append(out, ch.ID)
	}
	return out
}

func TestRoleServiceAs(t *testing.T) {
	t.Parallel()
	opts := bundleOpts{SessionDuration: time.Hour, CacheTTL: time.Minute}
	perms := func(p ...auth.Permission) []auth.Permission { return append([]auth.Permission{}, p...) }

	t.Run("CreateAsOnTheCallersChannelByDefault", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			second := b.createChannel(t, "second")
			hooks := b.hook.count()
			by := callerOn(second.ID, grantsOf{second.ID: perms(auth.Authenticated, "CreateAdministrator", "ReadCustomer")})

			r, err := b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "reader", Description: "Reader", Permissions: perms("ReadCustomer", "ReadCustomer")})
			require.NoError(t, err)
			require.Equal(t, entity.StringList{"Authenticated", "ReadCustomer"}, r.Permissions)
			require.Equal(t, []entity.ID{second.ID}, roleChannelIDs(r))
			require.Equal(t, "second-token", r.Channels[0].Token)
			require.Equal(t, hooks+1, b.hook.count())

			none, err := b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "nowhere", Permissions: perms(), ChannelIDs: []entity.ID{}})
			require.NoError(t, err)
			require.Empty(t, none.Channels, "an empty list is no channel")
		})
	})

	// Vendure's role escalation scenario (its issue 1874): an administrator
	// may put a role only on channels where it holds CreateAdministrator,
	// and grant only what it holds there itself.
	t.Run("CreateAsRefusesEscalation", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second").ID
			by := callerOn(second, grantsOf{second: perms(auth.Authenticated, "CreateAdministrator", "ReadAdministrator")})
			hooks, roles := b.hook.count(), countRows(t, b, (*entity.Role)(nil))

			for _, p := range []auth.Permission{auth.SuperAdmin, auth.Owner, auth.Public, "Bogus"} {
				_, err := b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "evil", Permissions: perms("ReadAdministrator", p), ChannelIDs: []entity.ID{second}})
				requireInputError(t, err, `The permission "`+string(p)+`" may not be assigned`)
			}
			_, err := b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "evil", Permissions: perms("ReadOrder"), ChannelIDs: []entity.ID{second}})
			requireInputError(t, err, "Active user does not have sufficient permissions")
			_, err = b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "evil", Permissions: perms("CreateAdministrator"), ChannelIDs: []entity.ID{def}})
			require.ErrorIs(t, err, outcome.ErrForbidden, "no CreateAdministrator on the default channel")
			_, err = b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "evil", Permissions: perms("CreateAdministrator"), ChannelIDs: []entity.ID{second, def}})
			require.ErrorIs(t, err, outcome.ErrForbidden, "one channel of several")
			_, err = b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "evil", ChannelIDs: []entity.ID{999999}})
			var notFound *outcome.EntityNotFoundError
			require.ErrorAs(t, err, &notFound)
			require.Equal(t, `No Channel with the id "999999" could be found`, notFound.Error())
			_, err = b.roles.CreateAs(b.ctx, access.Caller{ChannelID: second}, access.NewRole{Code: "evil"})
			require.ErrorIs(t, err, outcome.ErrForbidden, "a caller without grants")
			require.Equal(t, hooks, b.hook.count(), "a refused create changes no access")
			require.Equal(t, roles, countRows(t, b, (*entity.Role)(nil)))

			r, err := b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "good", Permissions: perms("CreateAdministrator"), ChannelIDs: []entity.ID{second, second}})
			require.NoError(t, err)
			require.Equal(t, []entity.ID{second}, roleChannelIDs(r))

			_, err = b.roles.CreateAs(b.ctx, by, access.NewRole{Code: "good", ChannelIDs: []entity.ID{second}})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			requireInputError(t, err, `a Role with the code "good" already exists`)
		})
	})

	t.Run("FindAsHidesRolesAboveTheCaller", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second").ID
			manager := b.createRole(t, "manager", perms("CreateAdministrator", "ReadAdministrator"), second)
			orders := b.createRole(t, "orders", perms("ReadOrder"), second)
			both := b.createRole(t, "both", perms("ReadAdministrator"), def, second)
			loose := b.createRole(t, "loose", nil)
			_, err := b.db.NewDelete().Model((*entity.RoleChannel)(nil)).Where("role_id = ?", loose).Exec(b.ctx)
			require.NoError(t, err)
			by := callerOn(second, grantsOf{second: perms(auth.Authenticated, "CreateAdministrator", "ReadAdministrator")})

			r, err := b.roles.FindAs(b.ctx, by, manager)
			require.NoError(t, err)
			require.Equal(t, "manager", r.Code)
			require.Equal(t, []entity.ID{second}, roleChannelIDs(r))
			for _, id := range []entity.ID{orders, both, b.superRoleID, b.customerRoleID, 999999} {
				_, err := b.roles.FindAs(b.ctx, by, id)
				require.ErrorIs(t, err, outcome.ErrNotFound, "role %d", id)
			}
			r, err = b.roles.FindAs(b.ctx, by, loose)
			require.NoError(t, err, "a role on no channel asks for nothing")
			require.Empty(t, r.Channels)

			admin := b.login(t, auth.AdminAPI, superadminLogin, superadminPassword)
			r, err = b.roles.FindAs(b.ctx, access.Caller{Grants: admin, ChannelID: def}, b.superRoleID)
			require.NoError(t, err, "the superadmin sees every role")
			require.Equal(t, []entity.ID{def, second}, roleChannelIDs(r))
		})
	})

	t.Run("UpdateAs", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second").ID
			id := b.createRole(t, "test", perms("ReadCustomer", "UpdateCustomer"))
			admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
			hooks := b.hook.count()
			b.clock.Advance(time.Minute)

			code, desc := "test-modified", "test role modified"
			r, err := b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: id, Code: &code, Description: &desc,
				Permissions: perms("ReadCustomer", "UpdateCustomer", "DeleteCustomer")})
			require.NoError(t, err)
			require.Equal(t, "test-modified", r.Code)
			require.Equal(t, "test role modified", r.Description)
			require.Equal(t, entity.StringList{"Authenticated", "ReadCustomer", "UpdateCustomer", "DeleteCustomer"}, r.Permissions)
			requireTimeEqual(t, b.clock.Now(), r.UpdatedAt)
			require.Equal(t, hooks+1, b.hook.count())

			code = "again"
			r, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: id, Code: &code})
			require.NoError(t, err)
			require.Equal(t, "test role modified", r.Description, "partial input keeps the rest")
			require.Equal(t, entity.StringList{"Authenticated", "ReadCustomer", "UpdateCustomer", "DeleteCustomer"}, r.Permissions)

			r, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: id, ChannelIDs: []entity.ID{def, second}})
			require.NoError(t, err)
			require.Equal(t, []entity.ID{def, second}, roleChannelIDs(r))
			hooks = b.hook.count()

			for _, builtIn := range []entity.ID{b.superRoleID, b.customerRoleID} {
				_, err := b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: builtIn, Permissions: perms()})
				require.ErrorIs(t, err, outcome.ErrCannotModifyRole)
				require.ErrorIs(t, err, outcome.ErrInvalidInput)
			}
			_, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: b.superRoleID, Code: &code})
			require.EqualError(t, err, `The role "__super_admin_role__" cannot be modified`)
			_, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: id, Permissions: perms(auth.SuperAdmin)})
			requireInputError(t, err, `The permission "SuperAdmin" may not be assigned`)
			taken := "taken"
			b.createRole(t, taken, nil)
			hooks = b.hook.count()
			_, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: id, Code: &taken})
			require.ErrorIs(t, err, outcome.ErrDuplicate)
			_, err = b.roles.UpdateAs(b.ctx, admin, access.RoleChange{ID: 999999, Code: &taken})
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Equal(t, hooks, b.hook.count(), "a refused update changes no access")
		})
	})

	// A limited administrator edits a role it can see: it may neither grant
	// what it lacks nor carry the role's permissions to a channel where it
	// lacks them (Vendure checks the latter only with new permissions).
	t.Run("UpdateAsRefusesEscalation", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			second := b.createChannel(t, "second").ID
			id := b.createRole(t, "creator", perms("CreateAdministrator"), second)
			by := callerOn(second, grantsOf{
				second: perms(auth.Authenticated, "CreateAdministrator", "UpdateAdministrator"),
				def:    perms(auth.Authenticated, "CreateAdministrator"),
			})
			hooks := b.hook.count()

			_, err := b.roles.UpdateAs(b.ctx, by, access.RoleChange{ID: id, Permissions: perms("ReadOrder")})
			requireInputError(t, err, "Active user does not have sufficient permissions")
			_, err = b.roles.UpdateAs(b.ctx, by, access.RoleChange{ID: id, Permissions: perms("UpdateAdministrator"), ChannelIDs: []entity.ID{second, def}})
			requireInputError(t, err, "Active user does not have sufficient permissions")
			_, err = b.roles.UpdateAs(b.ctx, by, access.RoleChange{ID: id, ChannelIDs: []entity.ID{999999}})
			require.ErrorIs(t, err, outcome.ErrNotFound)
			require.Equal(t, hooks, b.hook.count())

			r, err := b.roles.UpdateAs(b.ctx, by, access.RoleChange{ID: id, ChannelIDs: []entity.ID{second, def}})
			require.NoError(t, err, "it holds CreateAdministrator on both")
			require.Equal(t, []entity.ID{def, second}, roleChannelIDs(r))
			r, err = b.roles.UpdateAs(b.ctx, by, access.RoleChange{ID: id, Permissions: perms(), ChannelIDs: []entity.ID{second}})
			require.NoError(t, err)
			require.Equal(t, entity.StringList{"Authenticated"}, r.Permissions)
		})
	})

	t.Run("DeleteAs", func(t *testing.T) {
		eachDB(t, opts, func(t *testing.T, b *testBundle) {
			def := b.defaultChannel.ID
			id := b.createRole(t, "orders", perms("ReadOrder"))
			uid := b.createAdmin(t, "orders@example.com", "secret", id)
			limited := callerOn(def, grantsOf{def: perms(auth.Authenticated, "DeleteAdministrator")})
			admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
			hooks := b.hook.count()

			require.ErrorIs(t, b.roles.DeleteAs(b.ctx, limited, id), outcome.ErrNotFound, "a role above the caller")
			require.ErrorIs(t, b.roles.DeleteAs(b.ctx, admin, 999999), outcome.ErrNotFound)
			require.EqualError(t, b.roles.DeleteAs(b.ctx, admin, b.superRoleID), `The role "__super_admin_role__" cannot be deleted`)
			require.EqualError(t, b.roles.DeleteAs(b.ctx, admin, b.customerRoleID), `The role "__customer_role__" cannot be deleted`)
			require.Equal(t, hooks, b.hook.count())

			require.NoError(t, b.roles.DeleteAs(b.ctx, admin, id))
			require.Equal(t, hooks+1, b.hook.count())
			_, err := b.roles.FindAs(b.ctx, admin, id)
			require.ErrorIs(t, err, outcome.ErrNotFound)
			n, err := b.db.NewSelect().Model((*entity.UserRole)(nil)).Where("user_id = ?", uid).Count(b.ctx)
			require.NoError(t, err)
			require.Zero(t, n, "its assignments go with it")
		})
	})
}

// countRows counts the rows of model's table.
func countRows(t *testing.T, b *testBundle, model any) int {
	t.Helper()
	n, err := b.db.NewSelect().Model(model).Count(b.ctx)
	require.NoError(t, err)
	return int(n)
}

// Deleting several roles (or channels) in one call is one access change:
// one version bump and one run of the access-change hook (one cache clear
// on every instance), not one per row.
func TestDeleteManyIsOneAccessChange(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		def := b.defaultChannel.ID
		admin := access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
		var roles []entity.ID
		for _, code := range []string{"one", "two", "three"} {
			roles = append(roles, b.createRole(t, code, []auth.Permission{"ReadCatalog"}, def))
		}
		before := b.hook.count()
		results, err := b.roles.DeleteManyAs(b.ctx, admin, roles)
		require.NoError(t, err)
		require.Equal(t, []error{nil, nil, nil}, results)
		require.Equal(t, before+1, b.hook.count(), "one access change for three roles")

		var channels []entity.ID
		for _, code := range []string{"c-one", "c-two"} {
			channels = append(channels, b.createChannel(t, code).ID)
		}
		// The superadmin's grants now name the new channels.
		admin = access.Caller{Grants: b.login(t, auth.AdminAPI, superadminLogin, superadminPassword), ChannelID: def}
		before = b.hook.count()
		results, err = b.channels.DeleteManyAs(b.ctx, admin, channels)
		require.NoError(t, err)
		require.Equal(t, []error{nil, nil}, results)
		require.Equal(t, before+1, b.hook.count(), "one access change for two channels")
	})
}
