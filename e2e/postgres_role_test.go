package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// superuserWarning is the start-up line of a server connected to
// PostgreSQL as a superuser.
const superuserWarning = "connected to PostgreSQL as a superuser"

// postgresRoleSetup is the SQL of docs/postgres-role.md, run as the
// administrator of TEST_DATABASE_URL: the statements on the server (in its
// database), then those in the server's database, with the role, its
// password and the database put in.
type postgresRoleSetup struct {
	name     string
	onServer []string
	inDB     []string
	// schema is where the server's tables must end up.
	schema func(role string) string
}

// postgresRoleSetups are the two set-ups of docs/postgres-role.md.
var postgresRoleSetups = []postgresRoleSetup{
	{
		name: "own database",
		onServer: []string{
			`CREATE ROLE {role} LOGIN PASSWORD '{password}'`,
			`CREATE DATABASE {db} OWNER {role}`,
			`REVOKE ALL ON DATABASE {db} FROM PUBLIC`,
		},
		schema: func(string) string { return "public" },
	},
	{
		name: "own schema in a shared database",
		onServer: []string{
			`CREATE ROLE {role} LOGIN PASSWORD '{password}'`,
			`CREATE DATABASE {db}`,
			`REVOKE ALL ON DATABASE {db} FROM PUBLIC`,
			`GRANT CONNECT ON DATABASE {db} TO {role}`,
		},
		inDB: []string{
			`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
			`CREATE SCHEMA {role} AUTHORIZATION {role}`,
		},
		schema: func(role string) string { return role },
	},
}

// TestPostgresDedicatedRole runs the server as the role
// docs/postgres-role.md sets up, in each of its set-ups: a role that is
// not a superuser and can create neither databases nor roles migrates an
// empty database (ours and River's tables), starts without the superuser
// warning, and serves the login flow. The tables end up where the
// document says. Connected as a superuser, the server warns once.
func TestPostgresDedicatedRole(t *testing.T) {
	t.Parallel()
	adminURL := os.Getenv(testenv.PostgresURLEnv)
	if adminURL == "" {
		t.Skipf("%s is not set", testenv.PostgresURLEnv)
	}
	prefix := os.Getenv(testenv.PostgresPrefixEnv)
	if prefix == "" {
		prefix = testenv.DefaultPostgresPrefix
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := database.Open(ctx, database.Postgres, adminURL, database.Options{MaxConns: 2, QueryTimeout: testenv.QueryTimeout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })

	for _, setup := range postgresRoleSetups {
		t.Run(setup.name, func(t *testing.T) {
			suffix := randomSuffix(t)
			role, db, password := prefix+"role_"+suffix, prefix+"roledb_"+suffix, "pw"+suffix
			fill := strings.NewReplacer("{role}", role, "{db}", db, "{password}", password).Replace
			t.Cleanup(func() {
				ctx := context.Background()
				_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(db))
				_, _ = admin.ExecContext(ctx, "DROP ROLE IF EXISTS ?", bun.Ident(role))
			})
			for _, stmt := range setup.onServer {
				_, err := admin.ExecContext(ctx, fill(stmt))
				require.NoError(t, err, stmt)
			}
			asAdmin := withDB(t, adminURL, db, "", "")
			inDB, err := database.Open(ctx, database.Postgres, asAdmin, database.Options{MaxConns: 1})
			require.NoError(t, err)
			t.Cleanup(func() { _ = inDB.Close() })
			for _, stmt := range setup.inDB {
				_, err := inDB.ExecContext(ctx, fill(stmt))
				require.NoError(t, err, stmt)
			}

			var log syncBuffer
			cfg := config.Defaults()
			cfg.BcryptCost = 4
			cfg.DatabaseURL = withDB(t, adminURL, db, role, password)
			a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
			require.NoError(t, err, "the role could not migrate or start:\n%s", log.String())
			t.Cleanup(func() { _ = a.Close() })
			require.NotContains(t, log.String(), superuserWarning)

			srv := httptest.NewServer(a.Handler())
			t.Cleanup(srv.Close)
			client := testenv.NewClient(t, srv.URL+app.AdminPath, testenv.Bearer)
			requireLogin(t, client)
			r := client.Do(meQuery, nil)
			require.Empty(t, r.Errors)
			require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)
			r = client.Do(logoutMutation, nil)
			require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
			status, body := ready(t, srv.URL)
			require.Equal(t, 200, status, body)

			var attrs struct {
				Super      bool `bun:"rolsuper"`
				CreateDB   bool `bun:"rolcreatedb"`
				CreateRole bool `bun:"rolcreaterole"`
			}
			require.NoError(t, a.DB.NewRaw("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user").Scan(ctx, &attrs))
			require.Zero(t, attrs, "the role has no attribute but LOGIN")
			var schemas []string
			require.NoError(t, inDB.NewRaw("SELECT DISTINCT schemaname FROM pg_tables WHERE tableowner = ?", role).Scan(ctx, &schemas))
			require.Equal(t, []string{setup.schema(role)}, schemas)
			var tables []string
			require.NoError(t, inDB.NewRaw("SELECT tablename FROM pg_tables WHERE tableowner = ? ORDER BY 1", role).Scan(ctx, &tables))
			require.Subset(t, tables, []string{"bun_migrations", "session", "session_cache_outbox", "river_job", "river_leader", "river_queue"})
		})
	}

	t.Run("superuser warns", func(t *testing.T) {
		var log syncBuffer
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		a, err := app.New(ctx, cfg, app.Options{DB: testenv.PostgresDB(t), Logger: slog.New(slog.NewTextHandler(&log, nil))})
		require.NoError(t, err)
		t.Cleanup(func() { _ = a.Close() })
		require.Equal(t, 1, strings.Count(log.String(), superuserWarning), log.String())
		require.Contains(t, log.String(), "level=WARN")
	})
}

// withDB returns rawURL with its database, and with its user and
// password when user is not empty.
func withDB(t *testing.T, rawURL, db, user, password string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.Path = "/" + db
	if user != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}
