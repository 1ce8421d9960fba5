package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/audit"
)

// The documents of Vendure's administrator.e2e-spec (graphql/fragments.ts,
// shared-definitions.ts and the spec's own), unchanged.
const (
	specAdministratorFragment = `fragment Administrator on Administrator {
  id
  firstName
  lastName
  emailAddress
  user {
    id
    identifier
    lastLogin
    roles { id code description permissions }
  }
}`
	specGetAdministrators = `query GetAdministrators($options: AdministratorListOptions) {
  administrators(options: $options) { items { ...Administrator } totalItems }
}
` + specAdministratorFragment
	specGetAdministrator = `query GetAdministrator($id: ID!) {
  administrator(id: $id) { ...Administrator }
}
` + specAdministratorFragment
	specGetActiveAdministrator = `query ActiveAdministrator {
  activeAdministrator { ...Administrator }
}
` + specAdministratorFragment
	specCreateAdministrator = `mutation CreateAdministrator($input: CreateAdministratorInput!) {
  createAdministrator(input: $input) { ...Administrator }
}
` + specAdministratorFragment
	specUpdateAdministrator = `mutation UpdateAdministrator($input: UpdateAdministratorInput!) {
  updateAdministrator(input: $input) { ...Administrator }
}
` + specAdministratorFragment
	specUpdateActiveAdministrator = `mutation UpdateActiveAdministrator($input: UpdateActiveAdministratorInput!) {
  updateActiveAdministrator(input: $input) { ...Administrator }
}
` + specAdministratorFragment
	specDeleteAdministrator = `mutation DeleteAdministrator($id: ID!) {
  deleteAdministrator(id: $id) { message result }
}`
	specDeleteAdministrators = `mutation DeleteAdministrators($ids: [ID!]!) {
  deleteAdministrators(ids: $ids) { message result }
}`
	specAssignRoleToAdministrator = `mutation AssignRoleToAdministrator($administratorId: ID!, $roleId: ID!) {
  assignRoleToAdministrator(administratorId: $administratorId, roleId: $roleId) { ...Administrator }
}
` + specAdministratorFragment
)

// administratorView is Vendure's e2e Administrator fragment.
type administratorView struct {
	ID           string `json:"id"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	EmailAddress string `json:"emailAddress"`
	User         struct {
		ID         string  `json:"id"`
		Identifier string  `json:"identifier"`
		LastLogin  *string `json:"lastLogin"`
		Roles      []struct {
			ID          string   `json:"id"`
			Code        string   `json:"code"`
			Description string   `json:"description"`
			Permissions []string `json:"permissions"`
		} `json:"roles"`
	} `json:"user"`
}

func (a administratorView) roleCodes() []string {
	out := []string{}
	for _, r := range a.User.Roles {
		out = append(out, r.Code)
	}
	return out
}

type administratorList struct {
	Items      []administratorView `json:"items"`
	TotalItems int                 `json:"totalItems"`
}

func adminInput(fields map[string]any) map[string]any { return map[string]any{"input": fields} }

// requireNoSecrets fails when a response carries a password hash (bcrypt's
// prefix) or one of the given tokens.
func requireNoSecrets(t *testing.T, r *testenv.Response, tokens ...string) {
	t.Helper()
	body := string(r.Data)
	require.NotContains(t, body, "$2a$")
	require.NotContains(t, body, "$2b$")
	for _, tok := range tokens {
		if tok != "" {
			require.NotContains(t, body, tok)
		}
	}
}

// Vendure's administrator.e2e-spec, in its order, with its documents and
// answers. Differences: updateActiveAdministrator changes the email address
// only with currentPassword (our addition); the refusals Vendure sends as
// INTERNAL_SERVER_ERROR are USER_INPUT_ERROR with the same message.
func TestVendureAdministratorSpec(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		superAdminRole, customerRole := e.builtInRoleIDs(t)

		// administrators
		r := admin.Do(specGetAdministrators, nil)
		list := dataField[administratorList](t, r, "administrators")
		require.Equal(t, 1, list.TotalItems)
		require.Len(t, list.Items, 1)
		requireNoSecrets(t, r, admin.Token)

		// createAdministrator
		r = admin.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "test@test.com", "firstName": "First", "lastName": "Last", "password": "password", "roleIds": []string{superAdminRole},
		}))
		created := dataField[administratorView](t, r, "createAdministrator")
		requireNoSecrets(t, r, admin.Token)
		require.Equal(t, "First", created.FirstName)
		require.Equal(t, "Last", created.LastName)
		require.Equal(t, "test@test.com", created.EmailAddress)
		require.Equal(t, "test@test.com", created.User.Identifier)
		require.Nil(t, created.User.LastLogin)
		require.Equal(t, []string{"__super_admin_role__"}, created.roleCodes())

		// administrator
		r = admin.Do(specGetAdministrator, map[string]any{"id": created.ID})
		require.Equal(t, created, dataField[administratorView](t, r, "administrator"))

		// updateAdministrator
		r = admin.Do(specUpdateAdministrator, adminInput(map[string]any{
			"id": created.ID, "emailAddress": "new-email", "firstName": "new first", "lastName": "new last",
			"password": "new password", "roleIds": []string{customerRole},
		}))
		updated := dataField[administratorView](t, r, "updateAdministrator")
		require.Equal(t, "new-email", updated.EmailAddress)
		require.Equal(t, "new-email", updated.User.Identifier)
		require.Equal(t, "new first", updated.FirstName)
		require.Equal(t, []string{"__customer_role__"}, updated.roleCodes())

		// updateAdministrator works with partial input
		r = admin.Do(specUpdateAdministrator, adminInput(map[string]any{"id": created.ID, "emailAddress": "newest-email"}))
		updated = dataField[administratorView](t, r, "updateAdministrator")
		require.Equal(t, "newest-email", updated.EmailAddress)
		require.Equal(t, "new first", updated.FirstName)
		require.Equal(t, "new last", updated.LastName)

		// updateAdministrator throws with invalid roleId
		r = admin.Do(specUpdateAdministrator, adminInput(map[string]any{
			"id": created.ID, "emailAddress": "new-email", "firstName": "new first", "lastName": "new last",
			"password": "new password", "roleIds": []string{"999"},
		}))
		requireGraphQLError(t, r, "ENTITY_NOT_FOUND", `No Role with the id "999" could be found`)

		// deleteAdministrator
		require.Equal(t, 2, dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators").TotalItems)
		requireData(t, admin.Do(specDeleteAdministrator, map[string]any{"id": created.ID}), `{"deleteAdministrator":{"message":null,"result":"DELETED"}}`)
		require.Equal(t, 1, dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators").TotalItems)

		// cannot delete sole SuperAdmin
		before := dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators")
		require.Equal(t, 1, before.TotalItems)
		require.Equal(t, "superadmin", before.Items[0].EmailAddress)
		superID := before.Items[0].ID
		requireGraphQLError(t, admin.Do(specDeleteAdministrator, map[string]any{"id": superID}), "USER_INPUT_ERROR", "The sole SuperAdmin cannot be deleted")
		require.Equal(t, 1, dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators").TotalItems)

		// cannot remove SuperAdmin role from sole SuperAdmin
		requireGraphQLError(t, admin.Do(specUpdateAdministrator, adminInput(map[string]any{"id": superID, "roleIds": []string{}})),
			"USER_INPUT_ERROR", "Cannot remove the SuperAdmin role from the sole SuperAdmin")

		// cannot query a deleted Administrator
		requireData(t, admin.Do(specGetAdministrator, map[string]any{"id": created.ID}), `{"administrator":null}`)

		// activeAdministrator
		anon := e.admin(testenv.Bearer)
		requireData(t, anon.Do(specGetActiveAdministrator, nil), `{"activeAdministrator":null}`)
		active := dataField[administratorView](t, admin.Do(specGetActiveAdministrator, nil), "activeAdministrator")
		require.Equal(t, "superadmin", active.EmailAddress)

		// updateActiveAdministrator (with currentPassword, which the
		// email address needs here)
		r = admin.Do(specUpdateActiveAdministrator, adminInput(map[string]any{
			"firstName": "Thomas", "lastName": "Anderson", "emailAddress": "neo@metacortex.com", "currentPassword": "superadmin",
		}))
		updated = dataField[administratorView](t, r, "updateActiveAdministrator")
		require.Equal(t, "Thomas", updated.FirstName)
		require.Equal(t, "Anderson", updated.LastName)
		active = dataField[administratorView](t, admin.Do(specGetActiveAdministrator, nil), "activeAdministrator")
		require.Equal(t, "Thomas", active.FirstName)
		require.Equal(t, "neo@metacortex.com", active.User.Identifier)

		// supports case-sensitive admin identifiers
		dataField[administratorView](t, admin.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "NewAdmin", "firstName": "New", "lastName": "Admin", "password": "password", "roleIds": []string{superAdminRole},
		})), "createAdministrator")
		login := decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("NewAdmin", "password"))).Login
		require.Equal(t, "CurrentUser", login.Typename)
		require.Equal(t, "NewAdmin", login.Identifier)

		// deleteAdministrators and assignRoleToAdministrator: two
		// SuperAdmins, so one of them may go; both at once may not.
		r = admin.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "two@test.com", "firstName": "Two", "lastName": "Admin", "password": "password", "roleIds": []string{customerRole},
		}))
		two := dataField[administratorView](t, r, "createAdministrator")
		r = admin.Do(specAssignRoleToAdministrator, map[string]any{"administratorId": two.ID, "roleId": superAdminRole})
		// Roles are listed in id order: the SuperAdmin role was created first.
		require.Equal(t, []string{"__super_admin_role__", "__customer_role__"}, dataField[administratorView](t, r, "assignRoleToAdministrator").roleCodes())
		newAdmin := dataField[administratorList](t, admin.Do(specGetAdministrators, map[string]any{
			"options": map[string]any{"filter": map[string]any{"emailAddress": map[string]any{"eq": "NewAdmin"}}},
		}), "administrators").Items[0]
		requireGraphQLError(t, admin.Do(specDeleteAdministrators, map[string]any{"ids": []string{two.ID, newAdmin.ID, superID}}),
			"USER_INPUT_ERROR", "The sole SuperAdmin cannot be deleted")
		require.Equal(t, 3, dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators").TotalItems, "none deleted")
		requireData(t, admin.Do(specDeleteAdministrators, map[string]any{"ids": []string{two.ID, newAdmin.ID}}),
			`{"deleteAdministrators":[{"message":null,"result":"DELETED"},{"message":null,"result":"DELETED"}]}`)
		require.Equal(t, 1, dataField[administratorList](t, admin.Do(specGetAdministrators, nil), "administrators").TotalItems)
	})
}

// The escalation rules, each written as the attack: a limited
// administrator (CreateAdministrator, ReadAdministrator,
// UpdateAdministrator, DeleteAdministrator on a second channel) tries to
// reach the superadmin, to grant what it does not hold, and to take over
// an account with a session alone.
func TestAdministratorEscalationIsRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		super := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()
		superAdminRole, _ := e.builtInRoleIDs(t)
		zone := e.app.Channels.Default().DefaultTaxZoneID.String()
		r := super.Do(specCreateChannel, map[string]any{"input": map[string]any{
			"code": "second-channel", "token": "second-channel-token", "defaultLanguageCode": "en", "currencyCode": "GBP",
			"pricesIncludeTax": true, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
		}})
		second := dataField[idOf](t, r, "createChannel").ID
		manager := dataField[roleView](t, super.Do(specCreateRole, roleInput(map[string]any{"code": "second-channel-admin-manager", "description": "",
			"channelIds":  []string{second},
			"permissions": []string{"CreateAdministrator", "ReadAdministrator", "UpdateAdministrator", "DeleteAdministrator"}})), "createRole")
		orderReader := dataField[roleView](t, super.Do(specCreateRole, roleInput(map[string]any{"code": "second-channel-order-reader", "description": "",
			"channelIds": []string{second}, "permissions": []string{"ReadOrder"}})), "createRole")
		defaultManager := dataField[roleView](t, super.Do(specCreateRole, roleInput(map[string]any{"code": "default-admin-manager", "description": "",
			"channelIds":  []string{def},
			"permissions": []string{"CreateAdministrator", "ReadAdministrator", "UpdateAdministrator", "DeleteAdministrator"}})), "createRole")
		r = super.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "limited@test.com", "firstName": "Lim", "lastName": "Ited", "password": "limited", "roleIds": []string{manager.ID},
		}))
		limitedAdmin := dataField[administratorView](t, r, "createAdministrator")
		r = super.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "orders@test.com", "firstName": "Or", "lastName": "Ders", "password": "orders", "roleIds": []string{orderReader.ID},
		}))
		orders := dataField[administratorView](t, r, "createAdministrator")
		r = super.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "default@test.com", "firstName": "De", "lastName": "Fault", "password": "default", "roleIds": []string{defaultManager.ID},
		}))
		onDefault := dataField[administratorView](t, r, "createAdministrator")
		superID := dataField[administratorView](t, super.Do(specGetActiveAdministrator, nil), "activeAdministrator").ID

		limited := e.admin(testenv.Bearer)
		limited.Channel = "second-channel-token"
		asUserWithCredentials(t, limited, "limited@test.com", "limited")

		// It sees itself only: the superadmin and the order reader hold
		// roles it could not grant, the default channel's administrator
		// holds none on its channel.
		list := dataField[administratorList](t, limited.Do(specGetAdministrators, nil), "administrators")
		require.Equal(t, 1, list.TotalItems)
		require.Equal(t, limitedAdmin.ID, list.Items[0].ID)
		for _, id := range []string{superID, orders.ID, onDefault.ID} {
			requireData(t, limited.Do(specGetAdministrator, map[string]any{"id": id}), `{"administrator":null}`)
			notFound := fmt.Sprintf("No Administrator with the id %q could be found", id)
			// It cannot take the superadmin's (or another's) account
			// over, delete it or give it roles.
			requireGraphQLError(t, limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": id, "password": "mine"})), "ENTITY_NOT_FOUND", notFound)
			requireGraphQLError(t, limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": id, "emailAddress": "mine@test.com"})), "ENTITY_NOT_FOUND", notFound)
			requireGraphQLError(t, limited.Do(specDeleteAdministrator, map[string]any{"id": id}), "ENTITY_NOT_FOUND", notFound)
			requireGraphQLError(t, limited.Do(specAssignRoleToAdministrator, map[string]any{"administratorId": id, "roleId": manager.ID}), "ENTITY_NOT_FOUND", notFound)
		}
		// It grants no role it could not see: not the SuperAdmin role, not
		// one with a permission it lacks, not one on another channel.
		for _, role := range []string{superAdminRole, orderReader.ID, defaultManager.ID} {
			requireGraphQLError(t, limited.Do(specCreateAdministrator, adminInput(map[string]any{
				"emailAddress": "evil@test.com", "firstName": "E", "lastName": "Vil", "password": "evil", "roleIds": []string{role},
			})), "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
			requireGraphQLError(t, limited.Do(specAssignRoleToAdministrator, map[string]any{"administratorId": limitedAdmin.ID, "roleId": role}),
				"USER_INPUT_ERROR", "Active user does not have sufficient permissions")
			requireGraphQLError(t, limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": limitedAdmin.ID, "roleIds": []string{manager.ID, role}})),
				"USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		}
		// It creates an administrator with a role it holds, and sees it.
		r = limited.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "helper@test.com", "firstName": "Hel", "lastName": "Per", "password": "helper", "roleIds": []string{manager.ID},
		}))
		helper := dataField[administratorView](t, r, "createAdministrator")
		require.Equal(t, 2, dataField[administratorList](t, limited.Do(specGetAdministrators, nil), "administrators").TotalItems)

		// Email addresses are unique among administrators, without case.
		const taken = "An Administrator with this email address already exists"
		requireGraphQLError(t, limited.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "Default@Test.com", "firstName": "A", "lastName": "B", "password": "pass", "roleIds": []string{},
		})), "USER_INPUT_ERROR", taken)
		requireGraphQLError(t, limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": helper.ID, "emailAddress": "SUPERADMIN"})), "USER_INPUT_ERROR", taken)
		// The password rules hold.
		requireGraphQLError(t, limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": helper.ID, "password": "abc"})),
			"USER_INPUT_ERROR", "Password must be between 4 and 72 bytes long")

		// A session alone does not change the password or the email
		// address of its administrator: the current password is needed.
		for _, change := range []map[string]any{{"password": "stolen"}, {"emailAddress": "thief@test.com"}} {
			requireGraphQLError(t, limited.Do(specUpdateActiveAdministrator, adminInput(change)),
				"USER_INPUT_ERROR", "currentPassword is required to change the password or the email address")
			change["currentPassword"] = "guess"
			requireGraphQLError(t, limited.Do(specUpdateActiveAdministrator, adminInput(change)),
				"USER_INPUT_ERROR", "currentPassword does not match the password of the active administrator")
		}
		require.Equal(t, "CurrentUser", decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("limited@test.com", "limited"))).Login.Typename)
		// Names need no password.
		r = limited.Do(specUpdateActiveAdministrator, adminInput(map[string]any{"firstName": "Still"}))
		require.Equal(t, "Still", dataField[administratorView](t, r, "updateActiveAdministrator").FirstName)

		// The limits hold before any work.
		requireGraphQLError(t, limited.Do(specGetAdministrators, map[string]any{"options": map[string]any{"take": 101}}), "USER_INPUT_ERROR",
			"options.take must be between 0 and 100 (the maximum number of items that may be returned by a query), got 101: Cannot take more than 100 results from a list query")
		ids := make([]string, 101)
		for i := range ids {
			ids[i] = helper.ID
		}
		requireGraphQLError(t, limited.Do(specDeleteAdministrators, map[string]any{"ids": ids}), "USER_INPUT_ERROR", "ids may name at most 100 ids, got 101")

		// On the second channel the superadmin sees the administrators
		// holding a role there; on the default channel, all of them.
		super.Channel = "second-channel-token"
		list = dataField[administratorList](t, super.Do(specGetAdministrators, nil), "administrators")
		require.Equal(t, 4, list.TotalItems, "superadmin, limited, orders, helper: %+v", list.Items)
		super.Channel = ""
		list = dataField[administratorList](t, super.Do(specGetAdministrators, nil), "administrators")
		require.Equal(t, 5, list.TotalItems)

		// What it may see it may delete, itself included (as in Vendure):
		// its token is refused from the next request on.
		requireData(t, limited.Do(specDeleteAdministrators, map[string]any{"ids": []string{helper.ID, limitedAdmin.ID}}),
			`{"deleteAdministrators":[{"message":null,"result":"DELETED"},{"message":null,"result":"DELETED"}]}`)
		require.False(t, answers(t, limited, specGetAdministrators, nil))
		list = dataField[administratorList](t, super.Do(specGetAdministrators, map[string]any{"options": map[string]any{
			"sort": map[string]any{"emailAddress": "DESC"}, "filter": map[string]any{"emailAddress": map[string]any{"contains": "@TEST.com"}},
		}}), "administrators")
		emails := []string{}
		for _, a := range list.Items {
			emails = append(emails, a.EmailAddress)
		}
		require.Equal(t, []string{"orders@test.com", "default@test.com"}, emails, "the deleted are not listed")
	})
}

// What the administrator changes do to its sessions, on their next
// request with the same token: a role taken away refuses what it allowed
// (FORBIDDEN), a role given back allows it again, a new email address is
// the session's identifier, a password change ends every other session
// (and through updateAdministrator every session of another
// administrator), and a deletion ends them all. Every change is in the
// audit log, with no name, address or password in its detail.
func TestAdministratorChangesApplyOnTheNextRequest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		super := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()
		role := dataField[roleView](t, super.Do(specCreateRole, roleInput(map[string]any{"code": "channel-reader", "description": "reads channels",
			"permissions": []string{"ReadChannel"}, "channelIds": []string{def}})), "createRole").ID
		r := super.Do(specCreateAdministrator, adminInput(map[string]any{
			"emailAddress": "reader@example.com", "firstName": "Re", "lastName": "Ader", "password": "reader", "roleIds": []string{role},
		}))
		reader := dataField[administratorView](t, r, "createAdministrator")
		c1 := e.admin(testenv.Bearer)
		asUserWithCredentials(t, c1, "reader@example.com", "reader")
		c2 := e.admin(testenv.Bearer)
		asUserWithCredentials(t, c2, "reader@example.com", "reader")
		token := c1.Token
		loggedIn := func(c *testenv.Client) bool {
			t.Helper()
			r := c.Do(meQuery, nil)
			if len(r.Errors) > 0 {
				require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%+v", r.Errors)
				return false
			}
			return true
		}

		require.True(t, readsChannel(t, c1, def))
		r = super.Do(specUpdateAdministrator, adminInput(map[string]any{"id": reader.ID, "roleIds": []string{}}))
		require.Empty(t, dataField[administratorView](t, r, "updateAdministrator").User.Roles)
		require.False(t, answers(t, c1, readChannel, map[string]any{"id": def}), "the role taken away")
		require.True(t, loggedIn(c1), "still logged in")

		r = super.Do(specAssignRoleToAdministrator, map[string]any{"administratorId": reader.ID, "roleId": role})
		require.Empty(t, r.Errors)
		require.True(t, readsChannel(t, c1, def), "the role given back")

		r = super.Do(specUpdateAdministrator, adminInput(map[string]any{"id": reader.ID, "emailAddress": "Reader2@Example.com"}))
		require.Equal(t, "reader2@example.com", dataField[administratorView](t, r, "updateAdministrator").EmailAddress)
		require.Equal(t, "reader2@example.com", decodeMe(t, c1.Do(meQuery, nil)).Me.Identifier, "the new identifier")
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("reader@example.com", "reader"))).Login.Typename)

		// The administrator changes its own password: its other session
		// ends, this one stays.
		r = c1.Do(specUpdateActiveAdministrator, adminInput(map[string]any{"password": "changed", "currentPassword": "reader"}))
		require.Empty(t, r.Errors)
		requireNoSecrets(t, r, c1.Token, c2.Token)
		require.True(t, loggedIn(c1), "the session that changed it")
		require.False(t, loggedIn(c2), "the other session")
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("reader2@example.com", "reader"))).Login.Typename)
		asUserWithCredentials(t, c2, "reader2@example.com", "changed")

		// Another administrator changes it: every session ends.
		require.Empty(t, super.Do(specUpdateAdministrator, adminInput(map[string]any{"id": reader.ID, "password": "reset"})).Errors)
		require.False(t, loggedIn(c1))
		require.False(t, loggedIn(c2))
		require.True(t, loggedIn(super), "the caller's own session stays")

		asUserWithCredentials(t, c1, "reader2@example.com", "reset")
		token = c1.Token
		requireData(t, super.Do(specDeleteAdministrator, map[string]any{"id": reader.ID}), `{"deleteAdministrator":{"message":null,"result":"DELETED"}}`)
		stale := e.admin(testenv.Bearer)
		stale.Token = token
		require.False(t, loggedIn(stale), "deleted")
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.admin(testenv.Bearer).Do(loginMutation, creds("reader2@example.com", "reset"))).Login.Typename)

		// The audit log, in order.
		var rows []audit.Row
		require.NoError(t, e.db.NewSelect().Model(&rows).Where("entity_type = ?", audit.Administrator).Order("id").Scan(context.Background()))
		type entry struct{ Action, Detail, Actor string }
		got := []entry{}
		for _, row := range rows {
			require.Equal(t, reader.ID, row.EntityID.String())
			got = append(got, entry{string(row.Action), row.Detail, row.ActorIdentifier})
			for _, secret := range []string{"reader", "Re", "Ader", "changed", "reset", "$2"} {
				require.NotContains(t, row.Detail, secret)
			}
		}
		require.Equal(t, []entry{
			{"CREATED", "roleIds: " + role, "superadmin"},
			{"UPDATED", "roleIds: ", "superadmin"},
			{"UPDATED", "assigned roleId: " + role, "superadmin"},
			{"UPDATED", "fields: emailAddress", "superadmin"},
			{"UPDATED", "fields: password", "reader2@example.com"},
			{"UPDATED", "fields: password", "superadmin"},
			{"DELETED", "", "superadmin"},
		}, got)
	})
}

// The same on two instances sharing Redis and the database: the changes
// are made on A, the administrator's token is used on B, and B answers
// its very next request with each change.
func TestAdministratorChangesReachAnotherInstance(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	prefix := testenv.RandomPrefix()
	client, _ := testenv.Redis(t)
	a, b := newInstance(t, db, client, prefix), newInstance(t, db, client, prefix)
	def := a.app.Channels.Default().ID.String()

	super := a.admin(t, "")
	require.Equal(t, "CurrentUser", decodeLogin(t, super.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
	role := dataField[roleView](t, super.Do(specCreateRole, roleInput(map[string]any{"code": "channel-reader", "description": "reads channels",
		"permissions": []string{"ReadChannel"}, "channelIds": []string{def}})), "createRole").ID
	reader := dataField[administratorView](t, super.Do(specCreateAdministrator, adminInput(map[string]any{
		"emailAddress": "reader@example.com", "firstName": "Re", "lastName": "Ader", "password": "reader", "roleIds": []string{role},
	})), "createAdministrator")
	login := a.admin(t, "")
	require.Equal(t, "CurrentUser", decodeLogin(t, login.Do(loginMutation, creds("reader@example.com", "reader"))).Login.Typename)
	onB := b.admin(t, login.Token)

	require.True(t, readsChannel(t, onB, def), "B has the session cached")
	require.Empty(t, super.Do(specUpdateAdministrator, adminInput(map[string]any{"id": reader.ID, "roleIds": []string{}})).Errors)
	require.False(t, answers(t, onB, readChannel, map[string]any{"id": def}), "the role taken away, on B")

	require.Empty(t, super.Do(specAssignRoleToAdministrator, map[string]any{"administratorId": reader.ID, "roleId": role}).Errors)
	require.True(t, readsChannel(t, onB, def), "the role given back, on B")

	require.Empty(t, super.Do(specUpdateAdministrator, adminInput(map[string]any{"id": reader.ID, "emailAddress": "renamed@example.com"})).Errors)
	require.Equal(t, "renamed@example.com", decodeMe(t, onB.Do(meQuery, nil)).Me.Identifier, "the new identifier, on B")

	require.Empty(t, super.Do(specDeleteAdministrator, map[string]any{"id": reader.ID}).Errors)
	r := onB.Do(meQuery, nil)
	require.Equal(t, "FORBIDDEN", r.ErrorCode(), "deleted, on B: %s", strings.TrimSpace(string(r.Data)))
}
