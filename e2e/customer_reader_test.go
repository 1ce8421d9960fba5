package e2e_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

const (
	customersQuery         = `{ customers { totalItems items { id emailAddress } } }`
	createCustomerMutation = `mutation($email: String!) { createCustomer(input: {firstName: "New", lastName: "Customer", emailAddress: $email}) { __typename ... on Customer { id } } }`
)

// An administrator whose one role grants ReadCustomer on the default
// channel lists customers and is refused every operation that needs
// another permission; once updateRole adds CreateCustomer to its role,
// its very next request, with the same token, creates a customer. On
// every backend (memory and Redis) with one instance, and on a second
// instance below.
func TestCustomerReaderGainsCreateCustomer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		super := e.asSuperAdmin(t)
		def := e.app.Channels.Default().ID.String()
		e.newCustomer(t, "listed@example.com", "Listed")
		r := super.Do(specCreateRole, roleInput(map[string]any{"code": "customer-reader", "description": "reads customers",
			"permissions": []string{"ReadCustomer"}, "channelIds": []string{def}}))
		role := dataField[roleView](t, r, "createRole").ID
		e.newAdministrator(t, "customer-reader@example.com", mustID(t, role))
		reader := e.admin(testenv.Bearer)
		asUserWithCredentials(t, reader, "customer-reader@example.com", "test")
		token := reader.Token

		require.True(t, answers(t, reader, customersQuery, nil))
		// Everything else is refused: every operation of the permission
		// matrix that ReadCustomer alone does not grant.
		for op, row := range adminMatrix {
			if slices.Contains(row.perms, auth.Public) || slices.Contains(row.perms, auth.Owner) ||
				slices.Contains(row.perms, auth.Authenticated) || slices.Contains(row.perms, "ReadCustomer") || row.last {
				continue
			}
			r := reader.Do(strings.ReplaceAll(row.doc, `"DEFAULT"`, `"`+def+`"`), nil)
			require.Equal(t, "FORBIDDEN", r.ErrorCode(), "%s", op)
		}
		require.False(t, answers(t, reader, createCustomerMutation, map[string]any{"email": "first@example.com"}))

		r = super.Do(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadCustomer", "CreateCustomer"}}))
		require.Empty(t, r.Errors)
		r = reader.Do(createCustomerMutation, map[string]any{"email": "first@example.com"})
		require.Empty(t, r.Errors, "%+v", r.Errors)
		require.Equal(t, "Customer", dataField[map[string]any](t, r, "createCustomer")["__typename"])
		require.Equal(t, token, reader.Token, "the same token")
	})
}

// The same across two instances sharing PostgreSQL-or-SQLite and Redis: the
// role changes on A; the reader's next request on B creates the customer.
func TestCustomerReaderGainsCreateCustomerOnAnotherInstance(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	client, _ := testenv.Redis(t)
	prefix := testenv.RandomPrefix()
	a, b := newInstance(t, db, client, prefix), newInstance(t, db, client, prefix)
	def := a.app.Channels.Default().ID.String()
	super := a.admin(t, "")
	require.Equal(t, "CurrentUser", decodeLogin(t, super.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
	r := super.Do(specCreateRole, roleInput(map[string]any{"code": "customer-reader", "description": "reads customers",
		"permissions": []string{"ReadCustomer"}, "channelIds": []string{def}}))
	role := dataField[roleView](t, r, "createRole").ID
	_, err := a.app.Users.CreateAdministrator(context.Background(), access.NewAdministrator{
		EmailAddress: "customer-reader@example.com", Password: "test", RoleIDs: []entity.ID{mustID(t, role)},
	})
	require.NoError(t, err)
	login := a.admin(t, "")
	require.Equal(t, "CurrentUser", decodeLogin(t, login.Do(loginMutation, creds("customer-reader@example.com", "test"))).Login.Typename)
	onB := b.admin(t, login.Token)
	require.True(t, answers(t, onB, customersQuery, nil))
	require.False(t, answers(t, onB, createCustomerMutation, map[string]any{"email": "on-b@example.com"}))

	r = super.Do(specUpdateRole, roleInput(map[string]any{"id": role, "permissions": []string{"ReadCustomer", "CreateCustomer"}}))
	require.Empty(t, r.Errors)
	require.True(t, answers(t, onB, createCustomerMutation, map[string]any{"email": "on-b@example.com"}), "the next request on B")
	require.Equal(t, login.Token, onB.Token)
}
