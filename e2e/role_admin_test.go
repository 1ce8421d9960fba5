package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// roleView is Vendure's e2e Role fragment.
type roleView struct {
	ID          string   `json:"id"`
	Code        string   `json:"code"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	Channels    []struct {
		ID    string `json:"id"`
		Code  string `json:"code"`
		Token string `json:"token"`
	} `json:"channels"`
}

func (r roleView) channelIDs() []string {
	out := []string{}
	for _, ch := range r.Channels {
		out = append(out, ch.ID)
	}
	return out
}

// roleInput is a CreateRoleInput or UpdateRoleInput.
func roleInput(fields map[string]any) map[string]any { return map[string]any{"input": fields} }

// builtInRoleIDs are the ids of the SuperAdmin and Customer roles.
func (e *env) builtInRoleIDs(t *testing.T) (superAdmin, customer string) {
	t.Helper()
	var roles []entity.Role
	require.NoError(t, e.db.NewSelect().Model(&roles).
		Where("code IN (?, ?)", entity.SuperAdminRoleCode, entity.CustomerRoleCode).Scan(t.Context()))
	for _, r := range roles {
		if r.Code == entity.SuperAdminRoleCode {
			superAdmin = r.ID.String()
		} else {
			customer = r.ID.String()
		}
	}
	return superAdmin, customer
}

// Vendure's role.e2e-spec, in its order, with its documents and its
// answers, but for the roles list (served with the list options every list
// shares). Two differences: a role's code is unique here (Vendure
// lets two roles share one), and an invalid permission in the variables is
// refused by GraphQL's own validation with its code.
func TestVendureRoleSpec(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()
		superAdminRole, customerRole := e.builtInRoleIDs(t)
		defaultChannel := fmt.Sprintf(`{"code":"__default_channel__","id":%q,"token":"e2e-default-channel"}`, def)

		// createRole with invalid permission
		r := admin.Do(specCreateRole, roleInput(map[string]any{"code": "test", "description": "test role", "permissions": []string{"ReadCatalogx"}}))
		require.Len(t, r.Errors, 1)
		require.Contains(t, r.Errors[0].Message, "ReadCatalogx")
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.ErrorCode())

		// createRole with no permissions includes Authenticated
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "test", "description": "test role", "permissions": []string{}}))
		created := dataField[roleView](t, r, "createRole")
		require.Equal(t, "test", created.Code)
		require.Equal(t, "test role", created.Description)
		require.Equal(t, []string{"Authenticated"}, created.Permissions)

		// createRole deduplicates permissions
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "test2", "description": "test role2", "permissions": []string{"ReadSettings", "ReadSettings"}}))
		require.Equal(t, []string{"Authenticated", "ReadSettings"}, dataField[roleView](t, r, "createRole").Permissions)

		// createRole with permissions (a code of its own: codes are unique here)
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "test", "description": "test role", "permissions": []string{"ReadCustomer", "UpdateCustomer"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", `a Role with the code "test" already exists`)
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "test3", "description": "test role", "permissions": []string{"ReadCustomer", "UpdateCustomer"}}))
		createdRole := dataField[roleView](t, r, "createRole")
		requireData(t, r, fmt.Sprintf(`{"createRole":{"code":"test3","description":"test role","id":%q,
			"permissions":["Authenticated","ReadCustomer","UpdateCustomer"],"channels":[%s]}}`, createdRole.ID, defaultChannel))

		// role
		r = admin.Do(specGetRole, map[string]any{"id": createdRole.ID})
		require.Equal(t, createdRole, dataField[roleView](t, r, "role"))

		// updateRole: updates role
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": createdRole.ID, "code": "test-modified", "description": "test role modified",
			"permissions": []string{"ReadCustomer", "UpdateCustomer", "DeleteCustomer"}}))
		requireData(t, r, fmt.Sprintf(`{"updateRole":{"code":"test-modified","description":"test role modified","id":%q,
			"permissions":["Authenticated","ReadCustomer","UpdateCustomer","DeleteCustomer"],"channels":[%s]}}`, createdRole.ID, defaultChannel))
		// works with partial input
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": createdRole.ID, "code": "test-modified-again"}))
		updated := dataField[roleView](t, r, "updateRole")
		require.Equal(t, "test-modified-again", updated.Code)
		require.Equal(t, "test role modified", updated.Description)
		require.Equal(t, []string{"Authenticated", "ReadCustomer", "UpdateCustomer", "DeleteCustomer"}, updated.Permissions)
		// deduplicates permissions
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": createdRole.ID,
			"permissions": []string{"Authenticated", "Authenticated", "ReadCustomer", "ReadCustomer"}}))
		require.Equal(t, []string{"Authenticated", "ReadCustomer"}, dataField[roleView](t, r, "updateRole").Permissions)
		// does not allow setting non-assignable permissions
		for _, p := range []string{"Owner", "Public", "SuperAdmin"} {
			r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": createdRole.ID, "permissions": []string{p}}))
			requireGraphQLError(t, r, "USER_INPUT_ERROR", fmt.Sprintf(`The permission %q may not be assigned`, p))
		}
		// is not allowed for SuperAdmin role, nor for the Customer role
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": superAdminRole, "code": "superadmin-modified",
			"description": "superadmin modified", "permissions": []string{"Authenticated"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", `The role "__super_admin_role__" cannot be modified`)
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": customerRole, "code": "customer-modified",
			"description": "customer modified", "permissions": []string{"Authenticated", "DeleteAdministrator"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", `The role "__customer_role__" cannot be modified`)

		// deleteRole is not allowed for the Customer role, nor for SuperAdmin
		requireGraphQLError(t, admin.Do(specDeleteRole, map[string]any{"id": customerRole}), "USER_INPUT_ERROR", `The role "__customer_role__" cannot be deleted`)
		requireGraphQLError(t, admin.Do(specDeleteRole, map[string]any{"id": superAdminRole}), "USER_INPUT_ERROR", `The role "__super_admin_role__" cannot be deleted`)
		// deleteRole deletes a role
		requireData(t, admin.Do(specDeleteRole, map[string]any{"id": createdRole.ID}), `{"deleteRole":{"result":"DELETED","message":null}}`)
		requireData(t, admin.Do(specGetRole, map[string]any{"id": createdRole.ID}), `{"role":null}`)

		// multi-channel
		zone := e.app.Channels.Default().DefaultTaxZoneID.String()
		r = admin.Do(specCreateChannel, map[string]any{"input": map[string]any{
			"code": "second-channel", "token": "second-channel-token", "defaultLanguageCode": "en", "currencyCode": "GBP",
			"pricesIncludeTax": true, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
		}})
		second := dataField[idOf](t, r, "createChannel").ID
		secondChannel := fmt.Sprintf(`{"code":"second-channel","id":%q,"token":"second-channel-token"}`, second)
		// createRole with specified channel
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "multi-test", "description": "multi channel test role",
			"permissions": []string{"ReadCustomer"}, "channelIds": []string{second}}))
		multi := dataField[roleView](t, r, "createRole")
		requireData(t, r, fmt.Sprintf(`{"createRole":{"code":"multi-test","description":"multi channel test role","id":%q,
			"permissions":["Authenticated","ReadCustomer"],"channels":[%s]}}`, multi.ID, secondChannel))
		// updateRole with specified channel
		r = admin.Do(specUpdateRole, roleInput(map[string]any{"id": multi.ID, "channelIds": []string{def, second}}))
		require.Equal(t, []string{def, second}, dataField[roleView](t, r, "updateRole").channelIDs())

		// role escalation (Vendure's issue 1874)
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "second-channel-admin-manager", "description": "",
			"channelIds":  []string{second},
			"permissions": []string{"CreateAdministrator", "ReadAdministrator", "UpdateAdministrator", "DeleteAdministrator"}}))
		manager := dataField[roleView](t, r, "createRole")
		r = admin.Do(specCreateAdministrator, adminInput(map[string]any{"firstName": "channel2", "lastName": "channel2",
			"emailAddress": "channel2@test.com", "password": "test", "roleIds": []string{manager.ID}}))
		require.Equal(t, "channel2@test.com", dataField[administratorView](t, r, "createAdministrator").EmailAddress)
		r = admin.Do(specCreateRole, roleInput(map[string]any{"code": "second-channel-order-manager", "description": "",
			"channelIds": []string{second}, "permissions": []string{"ReadOrder"}}))
		orderReader := dataField[roleView](t, r, "createRole")
		limited := e.admin(testenv.Bearer)
		limited.Channel = "second-channel-token"
		asUserWithCredentials(t, limited, "channel2@test.com", "test")

		// limited admin cannot view Role which requires permissions they do
		// not have, and can view its own
		requireData(t, limited.Do(specGetRole, map[string]any{"id": orderReader.ID}), `{"role":null}`)
		require.Equal(t, manager, dataField[roleView](t, limited.Do(specGetRole, map[string]any{"id": manager.ID}), "role"))
		// limited admin cannot create Role with SuperAdmin permission
		r = limited.Do(specCreateRole, roleInput(map[string]any{"code": "evil-superadmin", "description": "",
			"channelIds": []string{second}, "permissions": []string{"SuperAdmin"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", `The permission "SuperAdmin" may not be assigned`)
		// limited admin cannot create Administrator with SuperAdmin role
		drEvil := func(roleIDs ...string) map[string]any {
			return adminInput(map[string]any{"firstName": "Dr", "lastName": "Evil", "emailAddress": "drevil@test.com", "roleIds": roleIDs, "password": "test"})
		}
		requireGraphQLError(t, limited.Do(specCreateAdministrator, drEvil(superAdminRole)), "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		// limited admin cannot create Role with permissions it itself does not have
		r = limited.Do(specCreateRole, roleInput(map[string]any{"code": "evil-order-manager", "description": "",
			"channelIds": []string{second}, "permissions": []string{"ReadOrder"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		// limited admin cannot create Role on channel it does not have permissions on
		r = limited.Do(specCreateRole, roleInput(map[string]any{"code": "evil-order-manager", "description": "",
			"channelIds": []string{def}, "permissions": []string{"CreateAdministrator"}}))
		requireGraphQLError(t, r, "FORBIDDEN", "You are not currently authorized to perform this action")
		// limited admin cannot create Administrator with a Role with greater
		// permissions than they themselves have
		requireGraphQLError(t, limited.Do(specCreateAdministrator, drEvil(orderReader.ID)), "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		// limited admin can create Role with permissions it itself has
		r = limited.Do(specCreateRole, roleInput(map[string]any{"code": "good-admin-creator", "description": "",
			"channelIds": []string{second}, "permissions": []string{"CreateAdministrator"}}))
		creator := dataField[roleView](t, r, "createRole")
		require.Equal(t, "good-admin-creator", creator.Code)
		// limited admin can create Administrator with permissions it itself has
		r = limited.Do(specCreateAdministrator, adminInput(map[string]any{"firstName": "Admin", "lastName": "Creator",
			"emailAddress": "admincreator@test.com", "roleIds": []string{creator.ID}, "password": "test"}))
		adminCreator := dataField[administratorView](t, r, "createAdministrator")
		require.Equal(t, "admincreator@test.com", adminCreator.EmailAddress)
		// limited admin cannot update Role with permissions it itself lacks
		r = limited.Do(specUpdateRole, roleInput(map[string]any{"id": creator.ID, "permissions": []string{"ReadOrder"}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		// limited admin cannot update Administrator with Role containing
		// permissions it itself lacks
		r = limited.Do(specUpdateAdministrator, adminInput(map[string]any{"id": adminCreator.ID, "roleIds": []string{creator.ID, orderReader.ID}}))
		requireGraphQLError(t, r, "USER_INPUT_ERROR", "Active user does not have sufficient permissions")
		// nor move it to a channel where it lacks CreateAdministrator, nor
		// delete a role above it
		r = limited.Do(specUpdateRole, roleInput(map[string]any{"id": creator.ID, "channelIds": []string{second, def}}))
		requireGraphQLError(t, r, "FORBIDDEN", "You are not currently authorized to perform this action")
		requireGraphQLError(t, limited.Do(specDeleteRole, map[string]any{"id": orderReader.ID}), "ENTITY_NOT_FOUND",
			fmt.Sprintf(`No Role with the id %q could be found`, orderReader.ID))
		requireData(t, limited.Do(specDeleteRole, map[string]any{"id": creator.ID}), `{"deleteRole":{"result":"DELETED","message":null}}`)
	})
}

// The documents of the Admin UI's role pages: the detail page reads,
// creates and updates a role with its times and channels; the list page
// deletes.
func TestAdminUIRoleDocuments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()

		type uiRole struct {
			roleView
			CreatedAt string `json:"createdAt"`
			UpdatedAt string `json:"updatedAt"`
		}
		r := admin.Do(uiCreateRole, roleInput(map[string]any{"code": "editor", "description": "Catalogue editor",
			"permissions": []string{"ReadCatalog", "UpdateCatalog"}, "channelIds": []string{def}}))
		created := dataField[uiRole](t, r, "createRole")
		require.Equal(t, []string{"Authenticated", "ReadCatalog", "UpdateCatalog"}, created.Permissions)
		require.Equal(t, []string{def}, created.channelIDs())
		require.NotEmpty(t, created.CreatedAt)
		require.Equal(t, created, dataField[uiRole](t, admin.Do(uiGetRoleDetail, map[string]any{"id": created.ID}), "role"))

		e.clock.Advance(time.Minute)
		r = admin.Do(uiUpdateRole, roleInput(map[string]any{"id": created.ID, "description": "Editor",
			"permissions": []string{"ReadCatalog"}, "channelIds": []string{def}}))
		updated := dataField[uiRole](t, r, "updateRole")
		require.Equal(t, "Editor", updated.Description)
		require.Equal(t, []string{"Authenticated", "ReadCatalog"}, updated.Permissions)
		require.Equal(t, created.CreatedAt, updated.CreatedAt)
		require.NotEqual(t, created.UpdatedAt, updated.UpdatedAt)

		r = admin.Do(uiCreateRole, roleInput(map[string]any{"code": "nowhere", "description": "", "permissions": []string{}, "channelIds": []string{}}))
		nowhere := dataField[map[string]any](t, r, "createRole")
		require.Equal(t, []any{}, nowhere["channels"], "an empty channelIds is no channel")
		require.Equal(t, []any{"Authenticated"}, nowhere["permissions"])

		requireGraphQLError(t, admin.Do(uiUpdateRole, roleInput(map[string]any{"id": "999999", "code": "x"})),
			"ENTITY_NOT_FOUND", `No Role with the id "999999" could be found`)
		requireGraphQLError(t, admin.Do(uiCreateRole, roleInput(map[string]any{"code": "x", "description": "",
			"permissions": []string{}, "channelIds": []string{"999999"}})), "ENTITY_NOT_FOUND", `No Channel with the id "999999" could be found`)
		requireData(t, admin.Do(uiDeleteRole, map[string]any{"id": created.ID}), `{"deleteRole":{"result":"DELETED","message":null}}`)
		requireGraphQLError(t, admin.Do(uiDeleteRole, map[string]any{"id": created.ID}), "ENTITY_NOT_FOUND",
			fmt.Sprintf(`No Role with the id %q could be found`, created.ID))
		requireData(t, admin.Do(uiGetRoleDetail, map[string]any{"id": created.ID}), `{"role":null}`)
	})
}
