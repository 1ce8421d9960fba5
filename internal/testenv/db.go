package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/migrations"
)

// PostgresURLEnv names the environment variable holding the URL of a
// PostgreSQL server for tests, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. The role
// must be allowed to create databases. When it is unset, PostgreSQL tests
// are skipped; when it is set, an unreachable server fails them.
const PostgresURLEnv = "TEST_DATABASE_URL"

// PostgresPrefixEnv names the environment variable holding the prefix of
// every database the PostgreSQL tests create on the server of
// TEST_DATABASE_URL (templates and per-test databases alike), so a shared
// server's other databases are never touched, and `make test/clean` drops
// only these. Letters, digits and underscores, starting with a letter and
// ending with an underscore, at most 32 characters. Defaults to
// DefaultPostgresPrefix.
const PostgresPrefixEnv = "TEST_DATABASE_PREFIX"

// DefaultPostgresPrefix is the prefix used when TEST_DATABASE_PREFIX is
// unset.
const DefaultPostgresPrefix = "t_"

// validPrefix is what TEST_DATABASE_PREFIX may be: safe to write unquoted
// in a regular expression and in SQL, and short enough that the longest
// name made from it (<prefix>tmpl_<16 hex digits>_build) fits PostgreSQL's
// 63-byte identifiers.
var validPrefix = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}_$`)

// postgresPrefix returns TEST_DATABASE_PREFIX, or DefaultPostgresPrefix.
func postgresPrefix() (string, error) {
	p := os.Getenv(PostgresPrefixEnv)
	if p == "" {
		return DefaultPostgresPrefix, nil
	}
	if !validPrefix.MatchString(p) {
		return "", fmt.Errorf("%s=%q: use lower-case letters, digits and underscores, starting with a letter and ending with an underscore, at most 32 characters", PostgresPrefixEnv, p)
	}
	return p, nil
}

// setupTimeout bounds opening, migrating and cloning a test database.
const setupTimeout = 2 * time.Minute

// QueryTimeout is the QueryTimeout (database.Options) of the databases
// SQLiteDB and PostgresDB return, where the default would be 5 s: a guard
// against a hung call, long enough that a loaded machine's lock waits
// (dozens of writers queued on one row) never reach it, so what a test
// asserts does not depend on the machine's load. A test of what a slow or
// stalled database does sets the bound it needs itself.
const QueryTimeout = time.Minute

// SQLiteDB returns a migrated SQLite database in a fresh file under
// t.TempDir(), with QueryTimeout. It is closed when the test ends.
func SQLiteDB(t testing.TB) *bun.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	path := filepath.Join(t.TempDir(), "test.db")
	db, err := database.Open(ctx, database.SQLite, path, database.Options{QueryTimeout: QueryTimeout})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := migrations.Run(ctx, db); err != nil {
		t.Fatalf("testenv: migrate sqlite: %v", err)
	}
	return db
}

// PostgresDB returns a migrated PostgreSQL database of its own: a fresh
// database named <prefix><unix time>_<random>, cloned from a template
// database that is migrated once and then reused; <prefix> is
// TEST_DATABASE_PREFIX (PostgresPrefixEnv), "t_" by default. It has
// QueryTimeout. The database is closed and dropped when the test ends.
//
// It skips the test when TEST_DATABASE_URL is unset and fails it when the
// server cannot be reached, so CI never skips silently.
//
// The template is named after a hash of the PostgreSQL migration files and
// River's migrations (<prefix>tmpl_<hash>); it stays on the server between
// runs and a change to any migration makes a new one. `make test/clean`
// drops the templates and leftover databases of one prefix.
func PostgresDB(t testing.TB) *bun.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db, err := database.Open(ctx, database.Postgres, PostgresURL(t), database.Options{MaxConns: 4, QueryTimeout: QueryTimeout})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	// Registered after PostgresURL's cleanup, so it runs before the drop.
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// PostgresURL returns the connection URL of a migrated PostgreSQL database
// of its own, made as PostgresDB makes one, for tests that open their own
// connections (for example a server given the URL in its configuration,
// or the URL with its host changed to a Proxy's address). The database is
// dropped when the test ends, after the cleanups the test registered later
// (such as closing its pool); the drop disconnects whatever is left.
//
// It skips the test when TEST_DATABASE_URL is unset and fails it when the
// server cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	srv := postgresServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	// The creation time in the name lets a later run drop what a killed
	// run left behind.
	name := fmt.Sprintf("%s%d_%s", srv.prefix, time.Now().Unix(), randomHex(6))
	if err := srv.clone(ctx, name); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.drop(name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return withDatabase(srv.url, name)
}

// EmptyPostgresURL returns the connection URL of an empty PostgreSQL
// database of its own (no migrations applied), named and dropped as
// PostgresURL's are, for tests of what happens on a first start. It skips
// the test when TEST_DATABASE_URL is unset.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	srv := postgresServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	name := fmt.Sprintf("t_%d_%s", time.Now().Unix(), randomHex(6))
	if _, err := srv.admin.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := srv.drop(name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return withDatabase(srv.url, name)
}

// EachDB runs f as the parallel subtest "sqlite" and, when
// TEST_DATABASE_URL is set, as the parallel subtest "postgres", each with a
// fresh migrated database. The subtests call t.Parallel before the database
// is opened, so a subtest waiting for its turn holds no connection: opened
// first, every paused subtest kept one, and a package's PostgreSQL tests
// took all 100 of the server's connections. f must not call t.Parallel.
func EachDB(t *testing.T, f func(t *testing.T, db *bun.DB)) {
	t.Helper()
	t.Run(database.SQLite, func(t *testing.T) {
		t.Parallel()
		f(t, SQLiteDB(t))
	})
	if os.Getenv(PostgresURLEnv) != "" {
		t.Run(database.Postgres, func(t *testing.T) {
			t.Parallel()
			f(t, PostgresDB(t))
		})
	}
}

// DialectDB returns a fresh migrated database of the given dialect,
// "sqlite" or "postgres" (which skips without TEST_DATABASE_URL), for
// benchmarks and tests that pick the dialect themselves.
func DialectDB(t testing.TB, dialect string) *bun.DB {
	t.Helper()
	switch dialect {
	case database.SQLite:
		return SQLiteDB(t)
	case database.Postgres:
		return PostgresDB(t)
	}
	t.Fatalf("testenv: unknown dialect %q", dialect)
	return nil
}

// pgServer is the PostgreSQL server of TEST_DATABASE_URL, set up once per
// process.
type pgServer struct {
	url      string
	prefix   string  // TEST_DATABASE_PREFIX: every database made here starts with it
	admin    *bun.DB // connected to the URL's own database
	template string  // migrated database that tests clone
	force    bool    // DROP DATABASE ... WITH (FORCE) is available (PG 13+)
}

var (
	pgOnce sync.Once
	pgSrv  *pgServer
	pgErr  error
)

func postgresServer(t testing.TB) *pgServer {
	t.Helper()
	rawURL := os.Getenv(PostgresURLEnv)
	if rawURL == "" {
		t.Skipf("testenv: %s is not set; skipping PostgreSQL", PostgresURLEnv)
	}
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		pgSrv, pgErr = setupPostgres(ctx, rawURL)
	})
	if pgErr != nil {
		t.Fatalf("testenv: %s is set but PostgreSQL is not usable: %v", PostgresURLEnv, pgErr)
	}
	return pgSrv
}

func setupPostgres(ctx context.Context, rawURL string) (*pgServer, error) {
	prefix, err := postgresPrefix()
	if err != nil {
		return nil, err
	}
	// Creating and dropping databases can take seconds on a busy machine:
	// the admin connection's calls are bounded by the setup timeout, not
	// by the application's query timeout.
	admin, err := database.Open(ctx, database.Postgres, rawURL, database.Options{MaxConns: 4, QueryTimeout: setupTimeout})
	if err != nil {
		return nil, err
	}
	srv := &pgServer{url: rawURL, prefix: prefix, admin: admin}
	var version int
	if err := admin.NewRaw("SELECT current_setting('server_version_num')::int").Scan(ctx, &version); err != nil {
		return nil, fmt.Errorf("server version: %w", err)
	}
	srv.force = version >= 130000

	hash, err := migrationsHash()
	if err != nil {
		return nil, err
	}
	srv.template = prefix + "tmpl_" + hash
	if err := srv.ensureTemplate(ctx); err != nil {
		return nil, fmt.Errorf("template database %s: %w", srv.template, err)
	}
	srv.dropStale(ctx)
	return srv, nil
}

// staleAfter is the age after which a test database is taken for the
// leftover of a killed run; no test run lasts that long.
const staleAfter = 3 * time.Hour

// dropStale drops test databases of this prefix that runs killed before
// their cleanup left behind. It is best effort.
func (s *pgServer) dropStale(ctx context.Context) {
	// The names PostgresURL gives its databases.
	staleName := regexp.MustCompile(`^` + s.prefix + `(\d+)_[0-9a-f]+$`)
	var names []string
	if err := s.admin.NewSelect().Table("pg_database").Column("datname").
		Where("starts_with(datname, ?)", s.prefix).Scan(ctx, &names); err != nil {
		return
	}
	for _, name := range names {
		m := staleName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		created, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && time.Since(time.Unix(created, 0)) > staleAfter {
			_ = s.dropDatabase(ctx, s.admin, name)
		}
	}
}

// ensureTemplate creates and migrates the template database unless it
// exists. An advisory lock serialises the test processes of one go test run.
// The database is built under a temporary name and renamed when complete,
// so a crashed build never leaves a half-migrated template.
func (s *pgServer) ensureTemplate(ctx context.Context) (err error) {
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const lockKey = 0x7465_7374_656e_76 // "testenv"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockKey); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		_, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockKey)
		err = errors.Join(err, uerr)
	}()

	exists, err := conn.NewSelect().
		Table("pg_database").
		Where("datname = ?", s.template).
		Exists(ctx)
	if err != nil || exists {
		return err
	}

	build := s.template + "_build"
	if err := s.dropDatabase(ctx, conn, build); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(build)); err != nil {
		return err
	}
	db, err := database.Open(ctx, database.Postgres, withDatabase(s.url, build), database.Options{MaxConns: 1, QueryTimeout: setupTimeout})
	if err != nil {
		return err
	}
	err = migrations.Run(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE ? RENAME TO ?", bun.Ident(build), bun.Ident(s.template)); err != nil {
		return err
	}
	// Nobody may connect to the template: CREATE DATABASE ... TEMPLATE
	// fails while the template has connections.
	_, err = conn.ExecContext(ctx, "ALTER DATABASE ? WITH ALLOW_CONNECTIONS false", bun.Ident(s.template))
	return err
}

// clone creates the database name from the template.
func (s *pgServer) clone(ctx context.Context, name string) error {
	_, err := s.admin.ExecContext(ctx, "CREATE DATABASE ? TEMPLATE ?", bun.Ident(name), bun.Ident(s.template))
	if err != nil {
		return fmt.Errorf("create database %s from %s: %w", name, s.template, err)
	}
	return nil
}

// drop drops the database name, disconnecting any session left on it.
func (s *pgServer) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	return s.dropDatabase(ctx, s.admin, name)
}

func (s *pgServer) dropDatabase(ctx context.Context, db bun.IConn, name string) error {
	query := "DROP DATABASE IF EXISTS ?"
	if s.force {
		query += " WITH (FORCE)"
	}
	if _, err := db.ExecContext(ctx, query, bun.Ident(name)); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// migrationsHash returns a short hash of the PostgreSQL migration files,
// names and contents.
func migrationsHash() (string, error) {
	fsys, err := migrations.Files(database.Postgres)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	// migrations.Run applies River's migrations too: a River upgrade that
	// brings new ones must make a new template.
	river, err := migrations.River(database.Postgres)
	if err != nil {
		return "", err
	}
	for _, m := range river {
		fmt.Fprintf(h, "river %d\x00%d\x00%s", m.Version, len(m.SQLUp), m.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// withDatabase returns the connection string dsn pointed at database name.
func withDatabase(dsn, name string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			u.RawPath = ""
			q := u.Query()
			q.Del("dbname")
			q.Del("database")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// keyword/value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
