package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// startProduction builds a server on db with APP_ENV=production, as Load
// reads it with vars set too.
func startProduction(t *testing.T, db *bun.DB, vars map[string]string) (*app.App, error) {
	t.Helper()
	// Production also refuses the log notifier it would infer: these tests
	// are about the superadmin and the API, so NOTIFIER=log says it is meant.
	env := map[string]string{"APP_ENV": "production", "BCRYPT_COST": "4", "DEFAULT_CHANNEL_TOKEN": "e2e-default-channel", "NOTIFIER": "log"}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := config.Load(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	require.NoError(t, err)
	cfg.RequestTimeout, cfg.DBQueryTimeout = testRequestTimeout, testRequestTimeout
	a, err := app.New(context.Background(), cfg, app.Options{DB: db})
	if err == nil {
		t.Cleanup(func() { _ = a.Close() })
	}
	return a, err
}

// APP_ENV=production refuses to start while the superadmin logs in with
// "superadmin", whatever SUPERADMIN_PASSWORD says now (it only applied
// when the superadmin was created); once the password is changed through
// the Admin API it starts, with introspection refused and no playground.
func TestProductionMode(t *testing.T) {
	t.Parallel()
	db := testenv.SQLiteDB(t)

	_, err := startProduction(t, db, nil)
	require.ErrorContains(t, err, `APP_ENV=production: the superadmin "superadmin" still has the default password "superadmin" (SUPERADMIN_PASSWORD is the default)`)
	require.ErrorContains(t, err, "set SUPERADMIN_PASSWORD")
	_, err = startProduction(t, db, map[string]string{"SUPERADMIN_PASSWORD": "a-better-secret"})
	require.ErrorContains(t, err, "SUPERADMIN_PASSWORD only sets the password when the superadmin is created")

	// The operator changes it in development.
	dev := newEnvOn(t, backends()[0], db)
	admin := dev.admin(testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
	r := admin.Do(`mutation($input: UpdateActiveAdministratorInput!) { updateActiveAdministrator(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"password": "a-better-secret", "currentPassword": "superadmin"}})
	require.Empty(t, r.Errors)

	a, err := startProduction(t, db, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	// Introspection: refused before execution as a validation error, on
	// both APIs, through a fragment too; __typename is not introspection.
	for _, path := range []string{app.ShopPath, app.AdminPath} {
		for _, doc := range []string{
			`{ __schema { queryType { name } } }`,
			`query { ...Q } fragment Q on Query { __type(name: "Query") { name } }`,
		} {
			status, _, resp := rawGraphQL(t, http.MethodPost, srv.URL+path, doc, nil)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", resp.ErrorCode())
			require.Contains(t, resp.Errors[0].Message, "Introspection is turned off")
		}
		status, _, resp := rawGraphQL(t, http.MethodGet, srv.URL+path, `{ __typename }`, nil)
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{"__typename":"Query"}`, string(resp.Data))
	}

	// No playground: a browser's GET is answered as GraphQL, not a page.
	req, err := http.NewRequest(http.MethodGet, srv.URL+app.ShopPath, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, resp.Header.Get("Content-Type"), "text/html")
	require.False(t, strings.Contains(string(body), "<html"), "%s", body)

	// The new password logs in.
	prodAdmin := testenv.NewClient(t, srv.URL+app.AdminPath, testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, prodAdmin.Do(loginMutation, creds("superadmin", "a-better-secret"))).Login.Typename)
}

// A first start in production with SUPERADMIN_PASSWORD set starts.
func TestProductionModeWithPassword(t *testing.T) {
	t.Parallel()
	_, err := startProduction(t, testenv.SQLiteDB(t), map[string]string{"SUPERADMIN_PASSWORD": "a-better-secret"})
	require.NoError(t, err)
}
