package testenv

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { Main(m, PostgreSQL, RedisServer) }

func TestPostgresPrefix(t *testing.T) {
	for _, c := range []struct {
		env, want string
		ok        bool
	}{
		{"", DefaultPostgresPrefix, true},
		{"alice_", "alice_", true},
		{"ci_1733580000_4242_", "ci_1733580000_4242_", true},
		{"t", "", false},                                  // no trailing underscore (it would own t1_… too)
		{"T_", "", false},                                 // upper case
		{"1_", "", false},                                 // starts with a digit
		{"a.*_", "", false},                               // not safe in a regular expression
		{"x'; DROP _", "", false},                         // nor in SQL
		{"abcdefghijklmnopqrstuvwxyzabcdefg_", "", false}, // too long for the template's name
	} {
		t.Setenv(PostgresPrefixEnv, c.env)
		got, err := postgresPrefix()
		if !c.ok {
			require.Error(t, err, c.env)
			require.Contains(t, err.Error(), PostgresPrefixEnv)
			continue
		}
		require.NoError(t, err, c.env)
		require.Equal(t, c.want, got)
	}
}

// The attack: the tests run against a shared PostgreSQL server that holds
// other people's databases, some of them named like test databases. A run
// with TEST_DATABASE_PREFIX creates only databases with that prefix, its
// clean-up of leftovers drops only its own, and `make test/clean` drops only
// that prefix's templates and leftovers.
func TestPostgresPrefixConfinesDatabases(t *testing.T) {
	rawURL := os.Getenv(PostgresURLEnv)
	if rawURL == "" {
		t.Skipf("%s is not set", PostgresURLEnv)
	}
	ctx := context.Background()
	prefix := "tp" + randomHex(3) + "_"
	other := "to" + randomHex(3) + "_"
	t.Setenv(PostgresPrefixEnv, prefix)
	srv, err := setupPostgres(ctx, rawURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.admin.Close() })
	require.True(t, strings.HasPrefix(srv.template, prefix+"tmpl_"), srv.template)

	names := func() []string {
		t.Helper()
		var out []string
		require.NoError(t, srv.admin.NewSelect().Table("pg_database").Column("datname").
			Where("starts_with(datname, ?) OR starts_with(datname, ?)", prefix, other).OrderExpr("1").Scan(ctx, &out))
		return out
	}
	create := func(name string) {
		t.Helper()
		_, err := srv.admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name))
		require.NoError(t, err)
	}
	decoys := []string{prefix + "keep", other + "1_ab", other + "tmpl_ab", other + "tmpl_ab_build"}
	for _, d := range decoys {
		create(d)
	}
	t.Cleanup(func() {
		for _, n := range names() {
			_ = srv.drop(n)
		}
	})

	// A leftover of a killed run of this prefix, long stale.
	create(prefix + "1_ab")
	srv.dropStale(ctx)
	require.Equal(t, sorted(append([]string{srv.template}, decoys...)), names())

	name := prefix + "1733580000_cafe"
	require.NoError(t, srv.clone(ctx, name))

	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not installed")
	}
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", "../..", "test/clean",
		"TEST_DATABASE_URL="+rawURL, "TEST_DATABASE_PREFIX="+prefix)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "dropping "+name+"\ndropping "+srv.template+"\n", string(out))
	require.Equal(t, sorted(decoys), names(), "only this prefix's template and test databases are dropped")

	out, err = exec.CommandContext(ctx, "make", "-s", "-C", "../..", "test/clean",
		"TEST_DATABASE_URL="+rawURL, "TEST_DATABASE_PREFIX=.*").CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "TEST_DATABASE_PREFIX")
	require.Equal(t, sorted(decoys), names())
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
