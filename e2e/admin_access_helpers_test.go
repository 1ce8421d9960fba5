package e2e_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// asUserWithCredentials logs c in as Vendure's test client does: it logs
// out first if it holds a token, and adopts the token of the user's channel
// when it has exactly one.
func asUserWithCredentials(t *testing.T, c *testenv.Client, username, password string) {
	t.Helper()
	if c.Token != "" {
		c.Do(logoutMutation, nil)
		c.Token = ""
	}
	login := decodeLogin(t, c.Do(loginMutation, creds(username, password))).Login
	require.Equal(t, "CurrentUser", login.Typename, "%s: %s", username, login.Message)
	if len(login.Channels) == 1 {
		c.Channel = login.Channels[0].Token
	}
}

// asSuperAdmin is a new Admin API client logged in as the superadmin.
func (e *env) asSuperAdmin(t *testing.T) *testenv.Client {
	t.Helper()
	c := e.admin(testenv.Bearer)
	asUserWithCredentials(t, c, "superadmin", "superadmin")
	return c
}

// newAdministrator creates an administrator with the given roles.
func (e *env) newAdministrator(t *testing.T, email string, roleIDs ...entity.ID) {
	t.Helper()
	_, err := e.app.Users.CreateAdministrator(context.Background(), access.NewAdministrator{
		EmailAddress: email, Password: "test", FirstName: "Ad", LastName: "Min", RoleIDs: roleIDs,
	})
	require.NoError(t, err)
}

// requireData: the response has no errors and its data is want (JSON).
func requireData(t *testing.T, r *testenv.Response, want string) {
	t.Helper()
	require.Empty(t, r.Errors)
	require.JSONEq(t, want, string(r.Data))
}

// requireGraphQLError: the response's one error has the code and message,
// and its data is null (a non-null field failed) or holds null for its one
// field (a nullable one).
func requireGraphQLError(t *testing.T, r *testenv.Response, code, message string) {
	t.Helper()
	require.Len(t, r.Errors, 1, "%s", r.Data)
	require.Equal(t, code, r.ErrorCode(), "%+v", r.Errors[0])
	require.Equal(t, message, r.Errors[0].Message)
	var data map[string]any
	require.NoError(t, json.Unmarshal(r.Data, &data))
	for k, v := range data {
		require.Nil(t, v, "%s", k)
	}
}

// dataField decodes one field of the response's data.
func dataField[T any](t *testing.T, r *testenv.Response, name string) T {
	t.Helper()
	require.Empty(t, r.Errors)
	var data map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Data, &data))
	var out T
	require.NoError(t, json.Unmarshal(data[name], &out), "%s", data[name])
	return out
}

// idOf is the id of a node in a response.
type idOf struct {
	ID string `json:"id"`
}
