package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// The documents the Vendure Admin UI sends from its login, profile and
// administrators pages, and its roles list (its data/definitions:
// auth-definitions.ts and administrator-definitions.ts), as it sends them:
// the same operation names, fragments and variables. The role and channel
// detail documents are in admin_access_documents_test.go.
const (
	uiCurrentUserFragment = `
fragment CurrentUser on CurrentUser {
    id
    identifier
    channels {
        id
        code
        token
        permissions
    }
}`
	uiAdministratorFragment = `
fragment Administrator on Administrator {
    id
    createdAt
    updatedAt
    firstName
    lastName
    emailAddress
    user {
        id
        identifier
        lastLogin
        roles {
            ...Role
        }
    }
}` + uiRoleFragment

	uiAttemptLogin = `
mutation AttemptLogin($username: String!, $password: String!, $rememberMe: Boolean!) {
    login(username: $username, password: $password, rememberMe: $rememberMe) {
        ...CurrentUser
        ...ErrorResult
    }
}` + uiCurrentUserFragment + uiErrorResultFragment
	uiLogOut = `
mutation LogOut {
    logout {
        success
    }
}`
	uiGetCurrentUser = `
query GetCurrentUser {
    me {
        ...CurrentUser
    }
}` + uiCurrentUserFragment
	uiGetActiveAdministrator = `
query GetActiveAdministrator {
    activeAdministrator {
        ...Administrator
    }
}` + uiAdministratorFragment
	uiGetAdministrators = `
query GetAdministrators($options: AdministratorListOptions) {
    administrators(options: $options) {
        items {
            ...Administrator
        }
        totalItems
    }
}` + uiAdministratorFragment
	uiGetAdministrator = `
query GetAdministrator($id: ID!) {
    administrator(id: $id) {
        ...Administrator
    }
}` + uiAdministratorFragment
	uiCreateAdministrator = `
mutation CreateAdministrator($input: CreateAdministratorInput!) {
    createAdministrator(input: $input) {
        ...Administrator
    }
}` + uiAdministratorFragment
	uiUpdateAdministrator = `
mutation UpdateAdministrator($input: UpdateAdministratorInput!) {
    updateAdministrator(input: $input) {
        ...Administrator
    }
}` + uiAdministratorFragment
	uiUpdateActiveAdministrator = `
mutation UpdateActiveAdministrator($input: UpdateActiveAdministratorInput!) {
    updateActiveAdministrator(input: $input) {
        ...Administrator
    }
}` + uiAdministratorFragment
	uiDeleteAdministrator = `
mutation DeleteAdministrator($id: ID!) {
    deleteAdministrator(id: $id) {
        result
        message
    }
}`
	uiDeleteAdministrators = `
mutation DeleteAdministrators($ids: [ID!]!) {
    deleteAdministrators(ids: $ids) {
        result
        message
    }
}`
	uiGetRoles = `
query GetRoles($options: RoleListOptions) {
    roles(options: $options) {
        items {
            ...Role
        }
        totalItems
    }
}` + uiRoleFragment
	uiDeleteRoles = `
mutation DeleteRoles($ids: [ID!]!) {
    deleteRoles(ids: $ids) {
        result
        message
    }
}`
	uiAssignRoleToAdministrator = `
mutation AssignRoleToAdministrator($administratorId: ID!, $roleId: ID!) {
    assignRoleToAdministrator(administratorId: $administratorId, roleId: $roleId) {
        ...Administrator
    }
}` + uiAdministratorFragment
)

type uiListedRole struct {
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

type uiAdministrator struct {
	ID           string `json:"id"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	EmailAddress string `json:"emailAddress"`
	User         struct {
		ID         string         `json:"id"`
		Identifier string         `json:"identifier"`
		LastLogin  *string        `json:"lastLogin"`
		Roles      []uiListedRole `json:"roles"`
	} `json:"user"`
}

func (a uiAdministrator) roleCodes() []string {
	out := []string{}
	for _, r := range a.User.Roles {
		out = append(out, r.Code)
	}
	return out
}

// A Vendure Admin UI session, page by page: log in, the profile, the roles
// and administrators pages with their lists, forms and deletions, log out.
// Every document runs unchanged and answers what the UI reads.
func TestAdminUIAdministratorDocuments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ui := e.admin(testenv.Cookie)

		// The login page.
		r := ui.Do(uiAttemptLogin, map[string]any{"username": "superadmin", "password": "superadmin", "rememberMe": true})
		login := dataField[struct {
			ID         string `json:"id"`
			Identifier string `json:"identifier"`
			Channels   []struct {
				Token       string   `json:"token"`
				Permissions []string `json:"permissions"`
			} `json:"channels"`
		}](t, r, "login")
		require.Equal(t, "superadmin", login.Identifier)
		require.Len(t, login.Channels, 1)
		require.Contains(t, login.Channels[0].Permissions, "SuperAdmin")
		r = ui.Do(uiAttemptLogin, map[string]any{"username": "superadmin", "password": "wrong", "rememberMe": false})
		requireData(t, r, `{"login":{"errorCode":"INVALID_CREDENTIALS_ERROR","message":"The provided credentials are invalid"}}`)
		require.Equal(t, login.ID, dataField[struct {
			ID string `json:"id"`
		}](t, ui.Do(uiGetCurrentUser, nil), "me").ID)

		// The profile.
		me := dataField[uiAdministrator](t, ui.Do(uiGetActiveAdministrator, nil), "activeAdministrator")
		require.Equal(t, "superadmin", me.User.Identifier)
		require.NotNil(t, me.User.LastLogin)
		require.Equal(t, []string{"__super_admin_role__"}, me.roleCodes())
		r = ui.Do(uiUpdateActiveAdministrator, map[string]any{"input": map[string]any{"firstName": "Super", "lastName": "User", "emailAddress": "superadmin"}})
		me = dataField[uiAdministrator](t, r, "updateActiveAdministrator")
		require.Equal(t, "Super", me.FirstName)
		// The form sends the address and an empty password with every save;
		// a new address (or password) needs the current password, which
		// the Admin UI's form does not have: a stolen session cannot take
		// the account over.
		r = ui.Do(uiUpdateActiveAdministrator, map[string]any{"input": map[string]any{"firstName": "Super", "lastName": "User", "emailAddress": "superadmin", "password": ""}})
		require.Empty(t, r.Errors)
		r = ui.Do(uiUpdateActiveAdministrator, map[string]any{"input": map[string]any{"firstName": "Super", "lastName": "User", "emailAddress": "thief@example.com"}})
		requireGraphQLError(t, r, "USER_INPUT_ERROR", "currentPassword is required to change the password or the email address")

		// The roles page: the list, a new role, its form, an update.
		roles := dataField[struct {
			Items      []uiListedRole `json:"items"`
			TotalItems int            `json:"totalItems"`
		}](t, ui.Do(uiGetRoles, map[string]any{"options": map[string]any{"skip": 0, "take": 10, "sort": map[string]any{"createdAt": "DESC"}, "filter": map[string]any{"code": map[string]any{"contains": ""}}}}), "roles")
		require.Equal(t, 2, roles.TotalItems)
		def := e.app.Channels.Default().ID.String()
		r = ui.Do(uiCreateRole, map[string]any{"input": map[string]any{
			"code": "editor", "description": "Catalogue editor", "permissions": []string{"ReadCatalog", "UpdateCatalog"}, "channelIds": []string{def},
		}})
		editor := dataField[uiListedRole](t, r, "createRole")
		require.Equal(t, []string{"Authenticated", "ReadCatalog", "UpdateCatalog"}, editor.Permissions)
		require.Equal(t, editor, dataField[uiListedRole](t, ui.Do(uiGetRoleDetail, map[string]any{"id": editor.ID}), "role"))
		r = ui.Do(uiUpdateRole, map[string]any{"input": map[string]any{"id": editor.ID, "description": "Editor", "permissions": []string{"ReadCatalog"}, "channelIds": []string{def}}})
		require.Equal(t, "Editor", dataField[uiListedRole](t, r, "updateRole").Description)
		r = ui.Do(uiCreateRole, map[string]any{"input": map[string]any{"code": "reader", "description": "Reader", "permissions": []string{"ReadCustomer"}, "channelIds": []string{def}}})
		reader := dataField[uiListedRole](t, r, "createRole")

		// The administrators page: the list, a new administrator, its form,
		// an update, a role assigned.
		r = ui.Do(uiCreateAdministrator, map[string]any{"input": map[string]any{
			"firstName": "Ed", "lastName": "Itor", "emailAddress": "ed@example.com", "password": "ed-secret", "roleIds": []string{editor.ID},
		}})
		ed := dataField[uiAdministrator](t, r, "createAdministrator")
		require.Equal(t, "ed@example.com", ed.User.Identifier)
		require.Equal(t, []string{"editor"}, ed.roleCodes())
		admins := dataField[struct {
			Items      []uiAdministrator `json:"items"`
			TotalItems int               `json:"totalItems"`
		}](t, ui.Do(uiGetAdministrators, map[string]any{"options": map[string]any{"skip": 0, "take": 10}}), "administrators")
		require.Equal(t, 2, admins.TotalItems)
		require.Equal(t, ed, dataField[uiAdministrator](t, ui.Do(uiGetAdministrator, map[string]any{"id": ed.ID}), "administrator"))
		r = ui.Do(uiUpdateAdministrator, map[string]any{"input": map[string]any{
			"id": ed.ID, "firstName": "Edward", "lastName": "Itor", "emailAddress": "ed@example.com", "roleIds": []string{editor.ID},
		}})
		require.Equal(t, "Edward", dataField[uiAdministrator](t, r, "updateAdministrator").FirstName)
		r = ui.Do(uiAssignRoleToAdministrator, map[string]any{"administratorId": ed.ID, "roleId": reader.ID})
		require.ElementsMatch(t, []string{"editor", "reader"}, dataField[uiAdministrator](t, r, "assignRoleToAdministrator").roleCodes())

		// Deletions, one and several.
		r = ui.Do(uiCreateAdministrator, map[string]any{"input": map[string]any{
			"firstName": "Tem", "lastName": "Porary", "emailAddress": "tem@example.com", "password": "tem-secret", "roleIds": []string{reader.ID},
		}})
		tem := dataField[uiAdministrator](t, r, "createAdministrator")
		requireData(t, ui.Do(uiDeleteAdministrator, map[string]any{"id": ed.ID}), `{"deleteAdministrator":{"result":"DELETED","message":null}}`)
		requireData(t, ui.Do(uiDeleteAdministrators, map[string]any{"ids": []string{tem.ID}}), `{"deleteAdministrators":[{"result":"DELETED","message":null}]}`)
		requireData(t, ui.Do(uiDeleteRole, map[string]any{"id": editor.ID}), `{"deleteRole":{"result":"DELETED","message":null}}`)
		requireData(t, ui.Do(uiDeleteRoles, map[string]any{"ids": []string{reader.ID}}), `{"deleteRoles":[{"result":"DELETED","message":null}]}`)

		// Log out: the cookie goes, and the UI's next query is refused.
		requireData(t, ui.Do(uiLogOut, nil), `{"logout":{"success":true}}`)
		require.Equal(t, "FORBIDDEN", ui.Do(uiGetCurrentUser, nil).ErrorCode())
	})
}
